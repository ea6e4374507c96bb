"""The notification templates: which exist, their placeholders, the shipped default texts, the
admins' versions, and the rules a template must follow to be saved."""

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..account import tokens
from ..domain import DomainError
from ..extensions import db
from .models import NotificationTemplate

DEFAULTS_FOLDER = Path(__file__).resolve().parent / "defaults"

ACCOUNT_PASSWORD = "account_password"
PASSWORD_RESET = "password_reset"
ACCOUNT_APPROVED = "account_approved"
PASSWORD_CHANGED = "password_changed"

# key -> (name shown to staff, what it is for)
TEMPLATES = {
    ACCOUNT_PASSWORD: (
        _l("Account password"),
        _l("The link to set a password, sent by the shop: also the mail migrated customers get."),
    ),
    PASSWORD_RESET: (
        _l("Forgotten password"),
        _l("The link a customer asks for on the forgotten-password page."),
    ),
    ACCOUNT_APPROVED: (
        _l("Account approved"),
        _l("Tells a customer that their account has been approved."),
    ),
    PASSWORD_CHANGED: (
        _l("Password changed"),
        _l("A notice after the customer has set a new password."),
    ),
}
# The templates that carry a link to set a password, and the purpose of that link (which sets
# how long it lives: account/tokens.py).
LINK_TEMPLATES = {ACCOUNT_PASSWORD: tokens.STAFF, PASSWORD_RESET: tokens.FORGOT}

PLACEHOLDERS = ("first_name", "last_name", "email", "shop_name", "shop_url", "reset_link",
                "expires")
LINK_PLACEHOLDERS = ("reset_link", "expires")
URL_PLACEHOLDERS = ("reset_link", "shop_url")

# Anything between double brackets; what is inside is checked against the known names.
BRACKETED = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class TemplateText:
    key: str
    language: str
    subject: str
    body: str
    customized: bool = False
    row: NotificationTemplate | None = None


def template_name(key: str) -> str:
    return str(TEMPLATES[key][0])


def allowed_placeholders(key: str) -> tuple[str, ...]:
    if key in LINK_TEMPLATES:
        return PLACEHOLDERS
    return tuple(name for name in PLACEHOLDERS if name not in LINK_PLACEHOLDERS)


@functools.cache
def _shipped(language: str) -> dict[str, dict[str, str]]:
    path = DEFAULTS_FOLDER / f"{language}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def default_text(key: str, language: str) -> TemplateText:
    """The text shipped with shopadmin; English when the language has none."""
    entry = _shipped(language).get(key) or _shipped("en")[key]
    return TemplateText(key, language, entry["subject"].strip(), entry["body"].strip())


def get_template(key: str, language: str) -> TemplateText:
    """The admins' version of a template if there is one, else the shipped default."""
    if key not in TEMPLATES:
        raise KeyError(key)
    row = db.session.scalar(
        db.select(NotificationTemplate).filter_by(key=key, language=language)
    )
    if row is None:
        return default_text(key, language)
    return TemplateText(key, language, row.subject, row.body, customized=True, row=row)


def validate_template(key: str, subject: str, body: str) -> None:
    """Raise a DomainError (at field "subject" or "body") unless the template can be sent."""
    allowed = allowed_placeholders(key)
    if not subject.strip():
        raise DomainError(_("The subject must not be empty."), "subject")
    if "\n" in subject or "\r" in subject:
        raise DomainError(_("The subject must be a single line."), "subject")
    if len(subject) > 255:
        raise DomainError(_("The subject must not be longer than 255 characters."), "subject")
    if not body.strip():
        raise DomainError(_("The text must not be empty."), "body")
    for field, text in (("subject", subject), ("body", body)):
        for match in BRACKETED.finditer(text):
            name = match.group(1)
            if name not in PLACEHOLDERS:
                raise DomainError(
                    _("Unknown placeholder %(placeholder)s. You can use: %(names)s.",
                      placeholder=match.group(0), names=_placeholder_list(allowed)),
                    field,
                )
            if name not in allowed:
                raise DomainError(
                    _("%(placeholder)s cannot be used in this template, which carries no link. "
                      "You can use: %(names)s.",
                      placeholder=match.group(0), names=_placeholder_list(allowed)),
                    field,
                )
        rest = BRACKETED.sub("", text)
        if "[[" in rest or "]]" in rest:
            raise DomainError(
                _("A placeholder is not written right: use double square brackets on both "
                  "sides, as in [[first_name]]."),
                field,
            )
    if "[[reset_link]]" in subject:
        raise DomainError(_("The link [[reset_link]] belongs in the text, not in the subject."),
                          "subject")
    if key in LINK_TEMPLATES and "[[reset_link]]" not in body:
        raise DomainError(
            _("This mail must contain [[reset_link]]: without the link the customer cannot set "
              "a password."),
            "body",
        )


def _placeholder_list(names) -> str:
    return " ".join(f"[[{name}]]" for name in names)
