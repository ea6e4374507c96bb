"""Dates, times and numbers as each interface language writes them.

One date style and one date-and-time style per language, with a four-digit year and without
seconds, in the store's time zone; numbers grouped as CLDR says (Polish leaves four-digit numbers
ungrouped: "2010 klientów"). Every page, mail, job message and export uses these, through the
Jinja filters `dateformat`, `datetimeformat` and `numberformat` or the functions below.

Every interface language writes the day before the month, so a date typed in any of them reads
the same whatever the reader's language (the export job, a bookmarked list, another colleague).
"""

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask, current_app
from flask_babel import get_locale

# The numeric date each language writes; English as in the British back offices of European
# shops (day first), not the American month first.
DATE_PATTERNS = {"de": "dd.MM.yyyy", "fr": "dd/MM/yyyy", "pl": "dd.MM.yyyy", "en": "dd/MM/yyyy"}
TIME_PATTERN = "HH:mm"
# What a date field shows while empty, in the words of its language (day, month, year).
DATE_HINTS = {"de": "TT.MM.JJJJ", "fr": "jj/mm/aaaa", "pl": "dd.mm.rrrr", "en": "dd/mm/yyyy"}
# A moment in a mail's running text: "gültig bis zum 28. November 2026, 22:11 Uhr", "valable
# jusqu'au 28 novembre 2026 à 22 h 11", "ważny do 28 listopada 2026 r., godz. 22:11".
MAIL_MOMENT_PATTERNS = {
    "de": "d. MMMM yyyy, HH:mm 'Uhr'",
    "fr": "d MMMM yyyy 'à' H 'h' mm",
    "pl": "d MMMM yyyy 'r., godz.' HH:mm",
    "en": "d MMMM yyyy 'at' HH:mm",
}
# CLDR's minimumGroupingDigits where it is not 1 (of the languages shops here write in).
MIN_GROUPING_DIGITS = {"pl": 2, "es": 2, "pt": 2, "hu": 2, "lv": 2, "bg": 2, "hr": 2}

_DAY_FIRST = re.compile(r"^\s*(\d{1,2})[./\-](\d{1,2})[./\-](\d{4})\s*$")
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


# The locale data a language is written with: English as British English (day first, 24 hours).
CLDR_LOCALES = {"en": "en_GB"}


def _language(locale=None) -> str:
    code = str(locale or get_locale() or "en")
    return code.split("_")[0].split("-")[0]


def _cldr(language: str) -> str:
    return CLDR_LOCALES.get(language, language)


def store_zone() -> ZoneInfo:
    """The store's time zone (SHOPADMIN_TIMEZONE), in which every time is shown."""
    return _zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(moment: datetime) -> datetime:
    """A stored (UTC) moment in the store's time zone; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(store_zone())


def date_pattern(locale=None) -> str:
    return DATE_PATTERNS.get(_language(locale), DATE_PATTERNS["en"])


def date_hint(locale=None) -> str:
    return DATE_HINTS.get(_language(locale), DATE_HINTS["en"])


def format_day(value: date | datetime | None, locale=None) -> str:
    """A day as the language writes it in a list or a field: 28.11.2026, 28/11/2026."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = local_time(value).date()
    language = _language(locale)
    return babel_format_date(value, date_pattern(language), locale=_cldr(language))


def format_moment(value: datetime | None, locale=None) -> str:
    """A moment as a day and a time without seconds, in the store's time zone:
    "28.11.2026, 22:11", "28/11/2026 22:11"."""
    if value is None:
        return ""
    language = _language(locale)
    local = local_time(value)
    return babel_format_datetime(local, _moment_pattern(language), tzinfo=local.tzinfo,
                                 locale=_cldr(language))


@lru_cache(maxsize=16)
def _moment_pattern(language: str) -> str:
    """The day's and the time's patterns joined as the language joins them ("{1}, {0}")."""
    joined = str(Locale.parse(_cldr(language)).datetime_formats["short"])
    return joined.replace("{1}", date_pattern(language)).replace("{0}", TIME_PATTERN)


def format_written_day(value: date | datetime, width: str = "full", locale=None) -> str:
    """A day written out ("Donnerstag, 26. November 2026"), for sentences."""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return babel_format_date(value, width, locale=_cldr(_language(locale)))


def format_mail_moment(moment: datetime, language: str) -> str:
    """A moment in a mail's running text, in the store's time zone (see MAIL_MOMENT_PATTERNS)."""
    language = _language(language)
    local = local_time(moment)
    pattern = MAIL_MOMENT_PATTERNS.get(language)
    if pattern is None:
        return babel_format_datetime(local, "long", tzinfo=local.tzinfo, locale=_cldr(language))
    if language == "fr" and local.day == 1:  # « le 1er décembre »
        pattern = pattern.replace("d ", "d'er' ", 1)
    return babel_format_datetime(local, pattern, tzinfo=local.tzinfo, locale=_cldr(language))


def format_number(value, locale=None) -> str:
    """A count as the language writes it, CLDR's minimum grouping digits included."""
    if value is None or value == "":
        return ""
    language = _language(locale)
    minimum = MIN_GROUPING_DIGITS.get(language, 1)
    if minimum > 1 and isinstance(value, int) and abs(value) < 10 ** (2 + minimum):
        return format_decimal(value, locale=_cldr(language), group_separator=False)
    return format_decimal(value, locale=_cldr(language))


def format_money(amount, currency: str, locale=None) -> str:
    """An amount with its currency, grouped as format_number groups ("1234,50 zł")."""
    language = _language(locale)
    minimum = MIN_GROUPING_DIGITS.get(language, 1)
    grouped = not (minimum > 1 and abs(amount) < 10 ** (2 + minimum))
    return format_currency(amount, currency, locale=_cldr(language), group_separator=grouped)


def format_percentage(percent: float, locale=None) -> str:
    """A share out of 100 as the language writes it: "45 %", "45%"."""
    return format_percent(percent / 100, locale=_cldr(_language(locale)))


def parse_day(text: str | None) -> date | None:
    """A day typed in any interface language (dd.mm.yyyy, dd/mm/yyyy, dd-mm-yyyy) or as ISO
    (yyyy-mm-dd, from older links). None for an empty text; ValueError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if match := _DAY_FIRST.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DAY.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValueError(text)
    return date(year, month, day)  # ValueError for 31.02.2026


def day_or_none(text: str | None) -> date | None:
    """parse_day for query strings: a day that cannot be read filters nothing."""
    try:
        return parse_day(text)
    except ValueError:
        return None


def register(app: Flask) -> None:
    """The filters every template formats with, and the date field's pattern and hint."""
    app.jinja_env.filters["dateformat"] = _dateformat
    app.jinja_env.filters["datetimeformat"] = lambda value, _width=None: format_moment(value)
    app.jinja_env.filters["numberformat"] = format_number
    app.jinja_env.filters["percentformat"] = format_percentage
    from .date_field import day_input

    app.jinja_env.globals.update(date_hint=date_hint, local_day=_local_day, day_input=day_input)


def _dateformat(value, width: str | None = None) -> str:
    if value is None:
        return ""
    if width in ("full", "long"):
        return format_written_day(value, width)
    return format_day(value)


def _local_day(value: str | None) -> str:
    """A date filter's value as its field shows it: a day in the page's language, or the text
    as typed when it is not a day (the page says why)."""
    try:
        day = parse_day(value)
    except ValueError:
        return value or ""
    return format_day(day) if day else ""


def ngettext(singular: str, plural: str, count: int, /, **variables) -> str:
    """flask_babel.ngettext that takes `num` among the variables, so that a count can be given
    written as the language writes numbers (num=format_number(count)) for "%(num)s"."""
    from flask_babel import get_translations

    variables.setdefault("num", count)
    return get_translations().ngettext(singular, plural, count) % variables
