"""Language choice, and the locale data (country and language names) pages use."""

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .extensions import babel
from .text import fold


def select_locale() -> str:
    """The staff member's preference, then the header switcher, then the browser, then the store."""
    languages = current_app.config["LANGUAGES"]
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


def language_name(code: str | None, in_locale: Locale | None = None) -> str:
    """A language's own name in the interface language ("Deutsch" reads "German" in English)."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(in_locale or get_locale())
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:] if name else code


def country_name(code: str | None) -> str:
    """A country's name from Babel's locale data in the interface language."""
    if not code:
        return ""
    return get_locale().territories.get(code.upper(), code)


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166-1 alpha-2 country, named and sorted for the interface language."""
    territories = get_locale().territories
    codes = [code for code in territories if len(code) == 2 and code.isalpha() and code != "ZZ"]
    return sorted(((code, territories[code]) for code in codes), key=lambda item: fold(item[1]))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        language_name=language_name,
        country_name=country_name,
        get_locale=get_locale,
    )
