"""Turning a template and a recipient's data into a mail: subject, plain text and HTML.

Placeholders are replaced in one pass, so a value that itself looks like a placeholder stays as
it is. In the HTML part everything, the template's words and the customer's data alike, is
escaped; only the links we build ourselves are markup.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale, gettext
from markupsafe import Markup, escape

from ..config import LANGUAGES
from ..formats import format_mail_moment
from .catalog import URL_PLACEHOLDERS, TemplateText

# A placeholder with the one space before it, which goes too when the value is empty
# ("Hello [[first_name]]," reads "Hello," for a customer without a first name).
_WITH_SPACE = re.compile(r"( ?)\[\[(.*?)\]\]", re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def mail_language(customer_language: str | None, settings: dict[str, Any]) -> str:
    """The customer's language when the store offers it, else the store's default language."""
    if customer_language and customer_language in settings["languages"]:
        return customer_language
    default = settings["default_language"]
    return default if default in LANGUAGES else "en"  # (the interface's: config.LANGUAGES)


def format_expires(moment: datetime, language: str) -> str:
    """A link's end as the recipient's language writes it in a sentence, in the store's time
    zone ("28. November 2026, 22:11 Uhr", "28 novembre 2026 à 22 h 11")."""
    return format_mail_moment(moment, language)


def recipient_values(person, settings: dict[str, Any], *, reset_link: str = "",
                     expires: str = "") -> dict[str, str]:
    """The placeholder values for a customer (or anything with their name and e-mail fields)."""
    last_name = " ".join(
        part for part in (getattr(person, "last_name_prefix", ""), person.last_name) if part
    )
    return {
        "first_name": person.first_name or "",
        "last_name": last_name,
        "email": person.email,
        "shop_name": settings["shop_name"],
        "shop_url": settings["shop_url"],
        "reset_link": reset_link,
        "expires": expires,
    }


def _one_line(value: str) -> str:
    return " ".join(str(value).split()) if ("\n" in value or "\r" in value) else value


@dataclass(frozen=True)
class _Placeholder:
    space: str  # the one space before it, or ""
    name: str


# A text of a template, parsed: its words, and its placeholders in their places.
Parsed = tuple[str | _Placeholder, ...]


def _parse(text: str) -> Parsed:
    pieces: list[str | _Placeholder] = []
    position = 0
    for match in _WITH_SPACE.finditer(text):
        pieces.append(text[position:match.start()])
        pieces.append(_Placeholder(match.group(1), match.group(2)))
        position = match.end()
    pieces.append(text[position:])
    return tuple(piece for piece in pieces if piece)


def _fill(parsed: Parsed, values: dict[str, str]) -> str:
    """The text with its placeholders replaced, as plain text."""
    out = []
    for piece in parsed:
        if isinstance(piece, str):
            out.append(piece)
        elif value := _one_line(values.get(piece.name, "")):
            out.append(piece.space + value)
    return "".join(out)


def _parse_html(line: str) -> Parsed:
    """A line of the template parsed, its words escaped for HTML."""
    return tuple(str(escape(piece)) if isinstance(piece, str) else piece
                 for piece in _parse(line))


def _fill_html(parsed: Parsed, values: dict[str, str]) -> str:
    """A line parsed by _parse_html as HTML, its values escaped; only the links we build
    ourselves are markup."""
    out: list[str] = []
    for piece in parsed:
        if isinstance(piece, str):
            out.append(piece)
        elif value := _one_line(values.get(piece.name, "")):
            out.append(piece.space)
            if piece.name in URL_PLACEHOLDERS and value.startswith(("https://", "http://")):
                out.append(Markup('<a href="{0}">{0}</a>').format(value))
            else:
                out.append(escape(value))
    return "".join(out)


def fill_text(text: str, values: dict[str, str]) -> str:
    """The template text with its placeholders replaced, as plain text."""
    return _fill(_parse(text), values)


# The HTML layout is rendered once per template around slots, each a marker that escaping
# leaves as it is; a recipient's mail is the layout's words with each slot filled.
_SLOT = "\x00{}\x00"
_SLOTS = re.compile("\x00([0-9]+)\x00")


class CompiledMail:
    """A template made ready for many recipients (a mailing compiles each of its templates
    once): its texts parsed, the link's words looked up in its language, and the HTML layout
    rendered once around slots for what differs between recipients. `link`: whether the
    values will hold a reset link (a paragraph that is only the link becomes a button);
    `preview`: for the back office's preview (the headers and the plain text shown too)."""

    def __init__(self, template: TemplateText, *, link: bool, preview: bool = False):
        self.subject, self.body = _parse(template.subject), _parse(template.body)
        self.link, self.preview = link, preview
        # What fills each slot: the name of a value (escaped), or a paragraph's lines.
        self._slots: list[str | tuple[Parsed, ...]] = []
        paragraphs: list[dict[str, Any]] = []
        for block in _PARAGRAPH_BREAK.split(template.body.strip()):
            block = block.strip()
            if not block:
                continue
            if block == "[[reset_link]]" and link:
                paragraphs.append({"button": self._slot("reset_link")})
            else:
                lines = tuple(_parse_html(line) for line in block.splitlines())
                paragraphs.append({"html": Markup(self._slot(lines))})
        with force_locale(template.language):  # the recipient's words, whoever sends the mail
            link_words = {"button": gettext("Set my password"),
                          "fallback": gettext("If the button does not work, open this link:")}
        layout = render_template(
            "notifications/mail/layout.html",
            subject=self._slot("subject"),
            language=template.language,
            paragraphs=paragraphs,
            shop_name=self._slot("shop_name"),
            preview={"sender": self._slot("sender"),
                     "recipient": self._slot("recipient")} if preview else None,
            text=self._slot("text"),
            link_words=link_words,
        )
        self._layout = _SLOTS.split(layout)  # words, slot number, words, ...

    def _slot(self, filling: str | tuple[Parsed, ...]) -> str:
        self._slots.append(filling)
        return _SLOT.format(len(self._slots) - 1)

    def render(self, values: dict[str, str], *,
               preview: dict[str, str] | None = None) -> RenderedMail:
        """The mail for these values (with `preview`: the sender and recipient shown)."""
        if bool(values.get("reset_link")) != self.link or (preview is not None) != self.preview:
            raise ValueError("compiled for other values")
        subject = _fill(self.subject, values)
        text = _fill(self.body, values).strip() + "\n"
        known = {**values, **(preview or {}), "subject": subject, "text": text}
        filled = [escape(known[filling]) if isinstance(filling, str)
                  else "<br>\n".join(_fill_html(line, values) for line in filling)
                  for filling in self._slots]
        html = "".join(piece if index % 2 == 0 else filled[int(piece)]
                       for index, piece in enumerate(self._layout))
        return RenderedMail(subject, text, html)


def render_mail(template: TemplateText, values: dict[str, str], *,
                preview: dict[str, str] | None = None) -> RenderedMail:
    """The mail for these values. With `preview` (sender, recipient), the HTML part also shows
    the headers and the plain-text part, for the back office's preview."""
    compiled = CompiledMail(template, link=bool(values.get("reset_link")),
                            preview=preview is not None)
    return compiled.render(values, preview=preview)
