"""What the per-language page walk checks on each page: controls that do not fit, and English
words outside data. Kept apart from the test so that the checks themselves are tested too."""

import base64
import re
import tomllib
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# Pages of the browser the walk keeps busy: while one is checked and photographed, the next one
# is rendered by the server and loaded by the browser.
TABS = 2
WORD = re.compile(r"[^\W\d_]{3,}")
ADDRESS = re.compile(r"\S+@\S+|\S+\.(?:csv|xlsx|ods|json)\b")  # e-mails and file names are data
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|\[\[\w+\]\]")

# Run in the page: every visible control that is cut, wraps or sticks out of its container,
# and the page's own text (text nodes, option labels, placeholders, titles) outside data.
# Data is marked with translate="no" (names, e-mails, file names) or with a lang attribute of
# another language (the language switcher, a template of another language); both are skipped.
INSPECT_PAGE = """
() => {
  const pageLang = document.documentElement.lang;
  const problems = [];
  const texts = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    problems.push(`the page is ${doc.scrollWidth}px wide`);
  }
  const visible = el => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden" && !el.closest("[hidden], .d-none");
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + ` "${(el.innerText || el.value || el.placeholder || "").trim().slice(0, 50)}"`;
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const overflow = getComputedStyle(a).overflowX;
      if (overflow === "auto" || overflow === "scroll") { return true; }
    }
    return false;
  };
  const canvas = document.createElement("canvas").getContext("2d");
  const controls = "button, .btn, input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
    + ":not([type=file]), select, textarea, .badge, .nav-link";
  for (const el of document.querySelectorAll(controls)) {
    if (!visible(el) || el.closest(".modal")) { continue; }
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    if (!["SELECT", "TEXTAREA", "INPUT"].includes(el.tagName)
        && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)}: its text is ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
    if (el.placeholder) {
      canvas.font = style.font;
      const needed = canvas.measureText(el.placeholder).width;
      if (needed > el.clientWidth - padding + 1) {
        problems.push(`${name(el)}: its placeholder needs ${Math.ceil(needed)}px,`
          + ` has ${Math.floor(el.clientWidth - padding)}px`);
      }
    }
    if (el.tagName === "SELECT" && el.selectedIndex >= 0) {
      canvas.font = style.font;
      const needed = canvas.measureText(el.options[el.selectedIndex].text).width;
      // The arrow takes the right padding; the text has what is left.
      if (needed > el.clientWidth - padding + 1) {
        problems.push(`${name(el)}: its choice needs ${Math.ceil(needed)}px,`
          + ` has ${Math.floor(el.clientWidth - padding)}px`);
      }
    }
    if (el.matches("button, .btn") && !el.matches(".btn-close")) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const lines = range.getBoundingClientRect().height / parseFloat(style.lineHeight);
      if (lines > 1.5) {
        problems.push(`${name(el)}: its label wraps onto ${Math.round(lines)} lines`);
      }
    }
    const parent = el.parentElement.getBoundingClientRect();
    if (!scrolls(el) && (box.right > parent.right + 1 || box.left < parent.left - 1)) {
      problems.push(`${name(el)}: ${Math.round(box.width)}px wide sticks out of its container`
        + ` (${Math.round(parent.left)}-${Math.round(parent.right)}px)`);
    }
  }
  const ours = el => {
    if (el.closest("[translate=no], script, style, noscript, template")) { return false; }
    const marked = el.closest("[lang]");
    return !marked || marked.lang === pageLang;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (node.textContent.trim() && ours(el) && (visible(el) || el.tagName === "OPTION")) {
      texts.push(node.textContent.trim());
    }
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!ours(el)) { continue; }
    for (const attribute of ["placeholder", "title", "aria-label"]) {
      if (el.getAttribute(attribute)) { texts.push(el.getAttribute(attribute)); }
    }
  }
  if (ours(document.querySelector("title"))) { texts.push(document.title); }
  return {problems, texts, lang: pageLang};
}
"""


def _words(text: str) -> set[str]:
    text = ADDRESS.sub(" ", PLACEHOLDER.sub(" ", text))
    return {word.casefold() for word in WORD.findall(text)}


@lru_cache(maxsize=8)
def vocabulary(language: str) -> frozenset[str]:
    """Every word the interface and the default mails use in `language` (its msgstr, or for
    English its msgid)."""
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        catalogue = read_po(file, locale=language)
    words: set[str] = set()
    for message in catalogue:
        if not message.id:
            continue
        texts = message.id if language == "en" else message.string
        for text in (texts if isinstance(texts, tuple) else (texts,)):
            words |= _words(text or "")
    # Language and country names come from CLDR in the page's language ("Same du Nord").
    locale = Locale.parse(language)
    for names in (locale.languages, locale.territories):
        for name in names.values():
            words |= _words(name)
    defaults = ROOT / "shopadmin" / "notifications" / "defaults" / f"{language}.toml"
    if defaults.exists():
        words |= _words(str(tomllib.loads(defaults.read_text(encoding="utf-8"))))
    return frozenset(words)


def english_words(texts: list[str], language: str, data: set[str] = frozenset()) -> list[str]:
    """The texts of a page in `language` that hold a word of the English interface which that
    language's interface never uses, with the word; words of the test's own data are left out."""
    if language == "en":
        return []
    foreign = vocabulary("en") - vocabulary(language) - {w.casefold() for w in data}
    found = []
    for text in texts:
        hits = sorted(_words(text) & foreign)
        if hits:
            found.append(f"{text[:80]!r} ({', '.join(hits)})")
    return found


def walk(context, urls: list[str], visit: Callable, tabs: int = TABS) -> None:
    """Open every url in one of `tabs` pages of `context` and call visit(page, url, response)
    for each, in order, once its page has loaded; the following urls load meanwhile."""
    free = deque(context.new_page() for _ in range(tabs))
    for page in free:
        page.set_default_timeout(10_000)
    loading: deque = deque()

    def finish() -> None:
        page, url, response = loading.popleft()
        page.wait_for_load_state("load")
        visit(page, url, response)
        free.append(page)

    for url in urls:
        if not free:
            finish()
        page = free.popleft()
        loading.append((page, url, page.goto(url, wait_until="commit")))
    while loading:
        finish()


def screenshot(page, path: Path, quality: int = 60) -> None:
    """The page's viewport as a JPEG, captured by Chromium itself with its fast encoder (a
    third of the browser time Playwright's page.screenshot takes for the same picture)."""
    session = page.context.new_cdp_session(page)
    try:
        shot = session.send("Page.captureScreenshot", {
            "format": "jpeg", "quality": quality, "optimizeForSpeed": True})
    finally:
        session.detach()
    path.write_bytes(base64.b64decode(shot["data"]))
