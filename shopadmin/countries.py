"""Country lists: the ISO 3166-1 countries (no "European Union", "Outlying Oceania", ...) named in
the interface language and sorted as that language sorts, with the store's own countries first.

Babel names the countries but does not collate. ICU would (PyICU), but it builds from source
with the ICU headers on every fresh environment; the four interface languages need only this:
accents are secondary (ä sorts with a, é with e), "ł" is a letter of its own after "l" (as in
CLDR's root collation), and Polish sorts ą ć ę ń ó ś ź ż after their base letters (CLDR's
Polish tailoring).
"""

from functools import lru_cache

import pycountry
from babel import Locale
from flask_babel import get_locale

from .text import fold

# Letters that a language's alphabet sorts after their base letter, in alphabet order.
OWN_LETTERS = {"pl": "ąćęłńóśźż"}
ROOT_OWN_LETTERS = "ł"
# The sorting text of such a letter: its base letter, then as many marks as its place among the
# letters of that base (ź z\x7f, ż z\x7f\x7f); \x7f comes after every letter and digit.
_AFTER = "\x7f"


@lru_cache(maxsize=1)
def iso_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes of the countries that exist (249)."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


@lru_cache(maxsize=8)
def _letter_keys(language: str) -> dict[str, str]:
    own = OWN_LETTERS.get(language, ROOT_OWN_LETTERS)
    keys: dict[str, str] = {}
    for letter in own:
        base = fold(letter)
        rank = sum(1 for other in own[: own.index(letter) + 1] if fold(other) == base)
        keys[letter] = base + _AFTER * rank
    return keys


def collation_key(text: str, language: str) -> tuple[str, str, str]:
    """Sorts `text` as `language` does: by letters (own letters after their base), then by
    accents, then as written."""
    keys = _letter_keys(language)
    lowered = text.lower()
    letters = "".join(keys.get(ch) or fold(ch) for ch in lowered)
    return letters, fold(text), text


def country_name(code: str | None) -> str:
    """A country's name in the interface language."""
    if not code:
        return ""
    return get_locale().territories.get(code.upper(), code)


def country_choices(first=()) -> list[tuple[str, str]]:
    """Every ISO 3166-1 country as (code, name), named and sorted for the interface language,
    with the codes in `first` (the store's own countries) at the top."""
    return list(_sorted_countries(str(get_locale()), tuple(first)))


@lru_cache(maxsize=32)
def _sorted_countries(locale: str, first: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(Worked out once per language and store: the list pages and forms show it often.)"""
    language = locale.split("_")[0]
    names = Locale.parse(locale).territories
    codes = [code for code in iso_codes() if code in names]
    ahead = [code for code in first if code in names]
    rest = sorted((code for code in codes if code not in ahead),
                  key=lambda code: collation_key(names[code], language))
    return tuple((code, names[code]) for code in (*ahead, *rest))


def store_countries(settings: dict) -> tuple[str, ...]:
    """The store's own countries: its country, then the other countries whose customers read
    its default language (a German store: DE, then AT, CH, LI), in the list's order."""
    from .i18n import COUNTRY_LANGUAGES, country_language

    home = (settings.get("store_country") or "").upper()
    language = settings.get("default_language")
    kin = [code for code in COUNTRY_LANGUAGES
           if code != home and language and country_language(code, [language]) == language]
    ordered = sorted(kin, key=lambda code: collation_key(country_name(code),
                                                          str(get_locale()).split("_")[0]))
    return tuple(code for code in (home, *ordered) if code)
