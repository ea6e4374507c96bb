"""What can be exported: each kind names its columns, headings, count and rows.

Each part adds its kinds to the app's registry with `registry(app).add_export_kind` from its
`init_app`: the customer register's in `customers/export.py`, the orders' in `orders/export.py`.
A kind's rows are sequences of text cells that the import reads back to the same values, fetched
as plain column tuples batch by batch (no ORM objects: an export of a million customers is
dominated by what it fetches per row).
"""

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.local import LocalProxy

from ..registry import registry
from ..sheets.writers import CsvText


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: Any  # "Customers", "Orders" (lazy, translated)
    columns: Sequence[Any]  # each with .name and .label
    headings: Callable[[list, str | None], list[str]]  # columns, language -> headings
    count: Callable[[str], int]  # the list's query string -> rows to come (for progress)
    # columns, query string, guard formulas? -> rows of text
    rows: Callable[..., Iterator[Sequence[str]]]
    neutralised: bool = False  # rows asked to guard formulas come neutralised
    # For kinds whose rows go by id (customers): the id halfway through the matches, so that
    # two processes can write the two halves; rows() then takes after= and upto= ids.
    middle_id: Callable[[str], int | None] | None = None
    # columns, language -> a function that writes a row's values in that language (for
    # exports with translated headings); None: the values stay as they are.
    translator: Callable[[list, str], Callable[[list[str]], list[str]]] | None = None
    # The same rows as rows() in blocks (one per batch read), for writers that take a block
    # at once (CSV); None: rows() is cut into blocks.
    blocks: Callable[..., Iterator[list[Sequence[str]]]] | None = None
    # The same rows as CSV lines written by the database, a block at a time (columns, query
    # string, delimiter; after=/upto= as rows()), byte for byte what csv.writer writes of
    # blocks(): the fast path of a CSV export without translated values. None: not offered.
    csv_text: Callable[..., Iterator[CsvText]] | None = None

    def columns_for(self, names: Sequence[str] | None) -> list:
        chosen = [c for c in self.columns if not names or c.name in names]
        return chosen or list(self.columns)


# The current app's export kinds by name (its registry's).
EXPORT_KINDS: Mapping[str, ExportKind] = LocalProxy(  # type: ignore[assignment]
    lambda: registry().export_kinds)


def cell(value: Any, boolean: bool = False) -> str:
    """A value as the import reads it back: yes/no, ISO dates, enum values."""
    if value is None:
        return ""
    if boolean or isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def query_args(query: str) -> MultiDict:
    return MultiDict(parse_qsl(query))


