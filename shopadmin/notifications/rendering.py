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


def fill_text(text: str, values: dict[str, str]) -> str:
    """The template with its placeholders replaced, as plain text."""

    def replace(match: re.Match) -> str:
        value = _one_line(values.get(match.group(2), ""))
        return match.group(1) + value if value else ""

    return _WITH_SPACE.sub(replace, text)


def _html_value(name: str, value: str) -> Markup:
    if name in URL_PLACEHOLDERS and value.startswith(("https://", "http://")):
        return Markup('<a href="{0}">{0}</a>').format(value)
    return escape(value)


def fill_html(text: str, values: dict[str, str]) -> Markup:
    """One line or paragraph of the template as HTML: words and values escaped."""
    pieces: list[Markup] = []
    position = 0
    for match in _WITH_SPACE.finditer(text):
        pieces.append(escape(text[position:match.start()]))
        value = _one_line(values.get(match.group(2), ""))
        if value:
            pieces.append(escape(match.group(1)) + _html_value(match.group(2), value))
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def html_paragraphs(body: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """The body split at blank lines (of the template, never of a value) into paragraphs; a
    paragraph that is only the reset link becomes a button."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(body.strip()):
        block = block.strip()
        if not block:
            continue
        if block == "[[reset_link]]" and values.get("reset_link"):
            paragraphs.append({"button": values["reset_link"]})
            continue
        lines = [fill_html(line, values) for line in block.splitlines()]
        paragraphs.append({"html": Markup("<br>\n").join(lines)})
    return paragraphs


def render_mail(template: TemplateText, values: dict[str, str], *,
                preview: dict[str, str] | None = None) -> RenderedMail:
    """The mail for these values. With `preview` (sender, recipient), the HTML part also shows
    the headers and the plain-text part, for the back office's preview."""
    subject = fill_text(template.subject, values)
    text = fill_text(template.body, values).strip() + "\n"
    with force_locale(template.language):  # the recipient's words, whoever sends the mail
        link_words = {"button": gettext("Set my password"),
                      "fallback": gettext("If the button does not work, open this link:")}
    html = render_template(
        "notifications/mail/layout.html",
        subject=subject,
        language=template.language,
        paragraphs=html_paragraphs(template.body, values),
        shop_name=values["shop_name"],
        preview=preview,
        text=text,
        link_words=link_words,
    )
    return RenderedMail(subject, text, html)

