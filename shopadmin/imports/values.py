"""Values the way people write them in worksheets → typed values of customer fields.

Each parser takes the cell text and returns the value, or raises DomainError with a message
that says what is wrong with it, in translation.py's language (the one spoken, else
Flask-Babel's). No Flask here: words of the interface ("Ja", "Weiblich") are read in every
interface language (config.LANGUAGES).
"""

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import cast

from babel import Locale, UnknownLocaleError

from ..config import LANGUAGES
from ..customers.choices import CustomerType, Gender
from ..domain import DomainError
from ..text import fold
from ..translation import gettext as _
from ..translation import speaking

TRUE_WORDS = {"1", "yes", "y", "true", "x", "ja", "j", "oui", "o", "vrai", "tak", "t", "on",
              "wahr", "subscribed", "abonniert"}
FALSE_WORDS = {"0", "no", "n", "false", "nein", "non", "faux", "nie", "off", "falsch", "-",
               "unsubscribed", "not subscribed"}
GENDER_WORDS = {
    Gender.MALE: {"m", "male", "man", "mr", "mr.", "herr", "hr", "hr.", "mannlich", "maennlich",
                  "homme", "h", "monsieur", "m.", "pan", "mezczyzna", "1"},
    Gender.FEMALE: {"f", "female", "woman", "mrs", "mrs.", "ms", "ms.", "miss", "frau", "fr",
                    "fr.", "weiblich", "w", "femme", "madame", "mme", "mme.", "mlle", "pani",
                    "kobieta", "k", "2"},
    Gender.OTHER: {"other", "divers", "d", "diverse", "x", "autre", "inna", "inny", "non-binary"},
}
TYPE_WORDS = {
    CustomerType.PRIVATE: {"private", "privat", "privatkunde", "particulier", "prywatny",
                           "osoba prywatna", "consumer", "b2c", "person"},
    CustomerType.BUSINESS: {"business", "company", "geschaftlich", "geschaftskunde", "firma",
                            "firmenkunde", "professionnel", "entreprise", "societe", "b2b",
                            "organisation", "organization"},
}
EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PARTS = re.compile(r"^(\d{1,4})[./\-](\d{1,2})[./\-](\d{1,4})(?:[ T].*)?$")


def _interface_word(kind: str, word: str):
    """A folded value as the interface writes it in any of its languages (a translated
    export's "Ja", "Weiblich", "Professionnel"), or None."""
    return _interface_words(LANGUAGES)[kind].get(word)


@lru_cache(maxsize=4)
def _interface_words(languages: tuple[str, ...]) -> dict[str, dict]:
    from ..customers.choices import GENDER_LABELS, TYPE_LABELS

    words: dict[str, dict] = {"bool": {}, "gender": {}, "type": {}}
    for language in languages:
        with speaking(language):
            words["bool"].update({fold(_("Yes")): True, fold(_("No")): False})
            words["gender"].update({fold(str(label)): key for key, label in
                                    GENDER_LABELS.items()})
            words["type"].update({fold(str(label)): key for key, label in TYPE_LABELS.items()})
    return words


def parse_bool(text: str) -> bool:
    word = fold(text.strip())
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    if (value := _interface_word("bool", word)) is not None:
        return value
    raise DomainError(_("“%(value)s” is not a yes or no value (use yes/no, 1/0, ja/nein, "
                        "oui/non or tak/nie).", value=text))


def parse_date(text: str, date_order: str | None = None) -> date:
    """ISO, dd.mm.yyyy, dd-mm-yyyy, dd/mm/yyyy, mm/dd/yyyy and Excel serial numbers. A date
    that reads both ways (03/04/2020) needs the import's date order; it is never guessed."""
    text = text.strip()
    if re.fullmatch(r"\d{4,5}(\.0+)?", text) and 1000 < float(text) < 80000:
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    match = _DATE_PARTS.match(text)
    if not match:
        raise DomainError(_("“%(value)s” is not a date.", value=text))
    a, b, c = (int(part) for part in match.groups())
    try:
        if len(match.group(1)) == 4:
            return date(a, b, c)
        year = c if c > 99 else c + (2000 if c < 30 else 1900)
        if "." in text[:6]:  # dd.mm.yyyy is only ever day first
            return date(year, b, a)
        if a > 12:
            return date(year, b, a)
        if b > 12:
            return date(year, a, b)
        if a == b:
            return date(year, a, b)
        if date_order == "dmy":
            return date(year, b, a)
        if date_order == "mdy":
            return date(year, a, b)
    except ValueError:
        raise DomainError(_("“%(value)s” is not a valid date.", value=text)) from None
    raise DomainError(_("“%(value)s” could be day/month or month/day. Choose the date order "
                        "of this file in the import options.", value=text))


def parse_datetime_or_date(text: str, date_order: str | None = None) -> date:
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        return parse_date(text, date_order)


def parse_gender(text: str) -> Gender:
    word = fold(text.strip())
    for gender, words in GENDER_WORDS.items():
        if word in words or word.rstrip(".") in words:
            return gender
    if (gender := _interface_word("gender", word)) is not None:
        return gender
    raise DomainError(_("“%(value)s” is not a gender or salutation we know.", value=text))


def parse_title_code(text: str) -> Gender | None:
    """PrestaShop's Titles ID: 1 Mr, 2 Ms, 0 none."""
    code = text.strip()
    if code in ("", "0"):
        return None
    if code in ("1", "2"):
        return Gender.MALE if code == "1" else Gender.FEMALE
    raise DomainError(_("“%(value)s” is not a title code (1, 2 or 0).", value=text))


def parse_customer_type(text: str) -> CustomerType:
    word = fold(text.strip())
    for kind, words in TYPE_WORDS.items():
        if word in words or word == kind.value:
            return kind
    if (kind := _interface_word("type", word)) is not None:
        return kind
    raise DomainError(_("“%(value)s” is not a customer type (private or business).", value=text))


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    table: dict[str, str] = {}
    english = Locale.parse("en")
    for language in ("en", "de", "fr", "pl"):
        territories = cast("Mapping[str, str]", Locale.parse(language).territories)
        for code, name in territories.items():
            if len(code) == 2 and code.isalpha():
                table.setdefault(fold(name), code)
                table.setdefault(code.lower(), code)
    table.update({"uk": "GB", "great britain": "GB", "england": "GB", "usa": "US",
                  "deutschland": "DE", "holland": "NL", "the netherlands": "NL"})
    for code in cast("Mapping[str, str]", english.territories):
        table.setdefault(code.lower(), code)
    return table


def parse_country(text: str) -> str:
    """ISO-2, ISO-3 or a country's name in de, fr, en or pl → the ISO-2 code."""
    word = fold(text.strip())
    code = _countries().get(word) or ISO3.get(word.upper())
    if code is None:
        raise DomainError(_("“%(value)s” is not a country we know; use the country's name or "
                            "its ISO code.", value=text))
    return code


@lru_cache(maxsize=1)
def _languages() -> dict[str, str]:
    """Every ISO 639-1 language by its code, its three-letter codes where Babel's aliases
    know them, and its names in the interface languages."""
    from babel.core import get_global

    languages = cast("Mapping[str, str]", Locale.parse("en").languages)  # keyed by code
    codes = [code for code in languages if len(code) == 2]
    table = {code: code for code in codes}
    for alias, target in get_global("language_aliases").items():
        base = target.split("_")[0]
        if len(alias) == 3 and base in table:
            table.setdefault(alias, base)
    for language in ("en", "de", "fr", "pl"):
        names = Locale.parse(language).languages
        for code in codes:
            if code in names:
                table.setdefault(fold(names[code]), code)
    table.update({"deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "eng": "en", "pol": "pl",
                  "nld": "nl", "dut": "nl", "vlaams": "nl", "flemish": "nl"})
    return table


@lru_cache(maxsize=1)
def _own_names() -> dict[str, str]:
    """Each language by its own name ("Nederlands", "čeština"). Looked up only when a cell
    holds neither a code nor a name in the interface languages: it loads the locale data of
    every language (some 100 MB), which an import of codes never needs."""
    table: dict[str, str] = {}
    for code in set(_languages().values()):
        try:
            own = Locale.parse(code).get_language_name(code)
        except (ValueError, TypeError, UnknownLocaleError):  # no locale data for a few
            continue
        if own:
            table.setdefault(fold(own), code)
    return table


def parse_language(text: str) -> str:
    """Any language a customer may speak, as its ISO 639-1 code: "nl", "nl-BE", "en_GB",
    "Nederlands", "Niederländisch", "dut" all read "nl"."""
    word = fold(text.strip()).replace("_", "-")
    table = _languages()
    code = table.get(word) or table.get(word.split("-")[0]) or _own_names().get(word)
    if code is None:
        raise DomainError(_("“%(value)s” is not a language we know; use its name or its "
                            "two-letter code (nl, de, fr, …).", value=text))
    return code


def parse_groups(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;|]", text) if part.strip()]


# ISO 3166-1 alpha-3 codes of the countries shops ship to most; Babel has no alpha-3 table.
ISO3 = {
    "DEU": "DE", "AUT": "AT", "CHE": "CH", "FRA": "FR", "BEL": "BE", "LUX": "LU", "NLD": "NL",
    "POL": "PL", "GBR": "GB", "IRL": "IE", "ITA": "IT", "ESP": "ES", "PRT": "PT", "DNK": "DK",
    "SWE": "SE", "NOR": "NO", "FIN": "FI", "CZE": "CZ", "SVK": "SK", "HUN": "HU", "SVN": "SI",
    "HRV": "HR", "ROU": "RO", "BGR": "BG", "GRC": "GR", "LTU": "LT", "LVA": "LV", "EST": "EE",
    "USA": "US", "CAN": "CA", "UKR": "UA", "MCO": "MC", "LIE": "LI", "ISL": "IS", "MLT": "MT",
    "CYP": "CY", "TUR": "TR", "AUS": "AU", "NZL": "NZ", "JPN": "JP", "CHN": "CN",
}
