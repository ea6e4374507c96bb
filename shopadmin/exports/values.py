"""The values of an export with translated headings, in the same language: Ja/Nein, Männlich,
country and language names, times in the store's time zone. The import reads every one of them
back (imports/values.py knows the words of each interface language), so such a file re-imports
unchanged. Days stay ISO (2026-11-28): every spreadsheet reads them as dates, and day/month
never swap on the way back."""

from collections.abc import Callable
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from ..countries import iso_codes
from ..customers.choices import GENDER_LABELS, TYPE_LABELS
from ..customers.fields import CustomerField, Kind
from ..formats import local_time
from ..i18n import language_name

Translate = Callable[[str], str]


def local_moment(text: str) -> str:
    """A stored moment ("2026-11-28 21:11:00+00:00") as the store's clock shows it
    ("2026-11-28 22:11"); text that is not a moment stays as it is."""
    if not text:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


def _words(language: str) -> dict[Kind, dict[str, str]]:
    """Each kind's cells as written in canonical exports → the same value in `language`."""
    from babel import Locale

    territories = Locale.parse(language).territories
    with force_locale(language):
        return {
            Kind.BOOL: {"yes": _("Yes"), "no": _("No")},
            Kind.GENDER: {gender.value: str(label) for gender, label in GENDER_LABELS.items()},
            Kind.CUSTOMER_TYPE: {kind.value: str(label) for kind, label in TYPE_LABELS.items()},
            Kind.COUNTRY: {code: territories[code] for code in iso_codes() if code in territories},
        }


def customer_translator(columns: list[CustomerField], language: str) -> Callable[[list[str]],
                                                                                   list[str]]:
    """A function that turns a customer row of `columns` into the row in `language`."""
    words = _words(language)
    languages: dict[str, str] = {}

    def language_cell(code: str) -> str:
        if code not in languages:
            languages[code] = language_name(code, language) if code else ""
        return languages[code]

    by_index: list[tuple[int, Translate]] = []
    for index, field in enumerate(columns):
        if field.kind in words:
            table = words[field.kind]
            by_index.append((index, lambda text, table=table: table.get(text, text)))
        elif field.kind == Kind.LANGUAGE:
            by_index.append((index, language_cell))
        elif field.kind == Kind.TIMESTAMP:
            by_index.append((index, local_moment))

    return row_translator(by_index)


def row_translator(changes: list[tuple[int, Translate]]) -> Callable[[list[str]], list[str]]:
    """A function that applies each (column index, change) to a row, in place."""
    def translate(row: list[str]) -> list[str]:
        for index, change in changes:
            row[index] = change(row[index])
        return row

    return translate


