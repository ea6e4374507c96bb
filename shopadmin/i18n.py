"""Language choice, and the locale data (country and language names) pages use."""

import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import cast

import flask_babel
from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from . import translation
from .countries import collation_key, country_name
from .extensions import babel

# Messages of the Flask-free modules (translation.py) made where they are given no language of
# their own are written in the one chosen here (the request's, or force_locale's).
translation.defer_to(flask_babel)


def select_locale() -> str:
    """The staff member's preference, then the header switcher, then the browser, then the store."""
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and the job worker
        return store_default_language()
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    from_browser = request.accept_languages.best_match(languages)
    if from_browser:
        return from_browser
    return store_default_language()


def store_default_language() -> str:
    from .settings.services import get_setting

    try:
        language = get_setting("default_language")
    except SQLAlchemyError:  # before the first migration there is no settings table yet
        language = None
    if language in current_app.config["LANGUAGES"]:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_babel(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)


def language_name(code: str | None, in_locale: Locale | str | None = None) -> str:
    """A language's own name in the interface language ("Deutsch" reads "German" in English)."""
    if not code:
        return ""
    locale = Locale.parse(in_locale) if isinstance(in_locale, str) else in_locale or get_locale()
    name = locale.languages.get(code.split("-")[0].split("_")[0])
    return name[:1].upper() + name[1:] if name else code


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country, named and sorted for the interface language, the store's own
    countries first (see countries.py)."""
    from .countries import country_choices as choices
    from .countries import store_countries
    from .settings.services import get_settings

    return choices(store_countries(get_settings()))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        language_name=language_name,
        country_name=country_name,
        get_locale=get_locale,
        mail_language_of=mail_language_of,
        submission_key=lambda: secrets.token_urlsafe(24),
        language_options=language_options,
        country_options=country_options,
    )


def mail_language_of(customer) -> str:
    """The language the customer's mails are written in (theirs, else the store's default)."""
    from .notifications.rendering import mail_language
    from .settings.services import get_settings

    return mail_language(customer.language, get_settings())


# The language most customers of a country read, for the countries shops here sell to most.
# Belgium reads Dutch or French: Dutch where the store writes it, else French.
COUNTRY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "DE": ("de",), "AT": ("de",), "CH": ("de",), "LI": ("de",),
    "FR": ("fr",), "LU": ("fr",), "MC": ("fr",), "BE": ("nl", "fr"),
    "NL": ("nl",), "PL": ("pl",),
    "GB": ("en",), "IE": ("en",), "US": ("en",), "CA": ("en",), "AU": ("en",), "NZ": ("en",),
    "ES": ("es",), "IT": ("it",), "PT": ("pt",), "CZ": ("cs",), "SK": ("sk",), "DK": ("da",),
    "SE": ("sv",), "NO": ("nb",), "FI": ("fi",), "HU": ("hu",), "SI": ("sl",), "HR": ("hr",),
}


def country_language(country: str | None, languages) -> str | None:
    """The language of a country that is among `languages` (a store's, say), else None."""
    for code in COUNTRY_LANGUAGES.get((country or "").upper(), ()):
        if code in languages:
            return code
    return None


def customer_language_choices(first=()) -> list[tuple[str, str]]:
    """Every ISO 639-1 language, named in the interface language and sorted by name, with the
    languages in `first` (the store's own) at the top."""
    return _language_choices(str(get_locale()), tuple(first))


def language_options(selected: str | None, first=()) -> Markup:
    """The <option>s of every customer language (see customer_language_choices), `selected`
    marked: a list page shows some 180 of them, joined here rather than looped in a template."""
    options = _escaped_choices(str(get_locale()), tuple(first))
    return Markup("".join(
        f'<option value="{code}" selected>{name}</option>' if code == selected
        else f'<option value="{code}">{name}</option>' for code, name in options))


def country_options(selected: str | None) -> Markup:
    """The <option>s of every country (see country_choices), `selected` marked, joined here
    rather than looped in a template: a list page shows some 250 of them."""
    return Markup("".join(
        f'<option value="{code}" selected>{name}</option>' if code == selected
        else f'<option value="{code}">{name}</option>'
        for code, name in _escaped(tuple(country_choices()))))


@lru_cache(maxsize=32)
def _escaped(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(escape(code)), str(escape(name))) for code, name in choices)


@lru_cache(maxsize=32)
def _escaped_choices(locale: str, first: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((code, str(escape(name))) for code, name in _language_choices(locale, first))


@lru_cache(maxsize=32)
def _language_choices(locale: str, first: tuple[str, ...]) -> list[tuple[str, str]]:
    """(Worked out once per interface language: every list page shows them.)"""
    names = Locale.parse(locale).languages
    english = cast("Mapping[str, str]", Locale.parse("en").languages)  # keyed by code
    codes = [code for code in english if len(code) == 2 and code in names]
    language = locale.split("_")[0]
    rest = sorted((c for c in codes if c not in first),
                  key=lambda c: collation_key(names[c], language))
    return [(code, language_name(code, locale)) for code in (*first, *rest)]
