"""The marketing-consent wording: one text per store language, shown to staff in the customer's
language and kept with every change of consent (the language and the text agreed to)."""

from typing import Any

from ..notifications.rendering import mail_language
from ..settings.services import get_settings
from ..translation import gettext, speaking


def shipped_wording(language: str) -> str:
    """The statement shipped in every catalogue, as the language writes it; a store writes its
    own per language in the settings."""
    with speaking(language):  # (the app's catalogues, read without Flask: the import's writer)
        return gettext("The customer agrees to receive marketing e-mails.")


def wordings(settings: dict[str, Any] | None = None) -> dict[str, str]:
    """The statement in force for each of the store's mail languages: the store's own text,
    else the shipped one in that language."""
    settings = settings or get_settings()
    own = settings.get("newsletter_consent_texts") or {}
    languages = dict.fromkeys([*settings["languages"], settings["default_language"]])
    return {language: (own.get(language) or "").strip() or shipped_wording(language)
            for language in languages}


def wording_language(customer_language: str | None,
                     settings: dict[str, Any] | None = None) -> str:
    """The language a customer reads the statement in: theirs where the store writes it, else
    the store's default (as for their mails)."""
    return mail_language(customer_language, settings or get_settings())


def wording_for(customer_language: str | None,
                settings: dict[str, Any] | None = None) -> tuple[str, str]:
    """(language, text) of the statement a customer with this language agrees to."""
    settings = settings or get_settings()
    language = wording_language(customer_language, settings)
    return language, wordings(settings).get(language) or shipped_wording(language)
