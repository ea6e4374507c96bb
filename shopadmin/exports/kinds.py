"""What can be exported: each kind names its columns, headings, count and rows.

The customer register's kind is defined here and added to the app's registry by `init_app`;
other parts (orders) add theirs with `registry(app).add_export_kind`. A kind's rows are lists
of text cells that the import reads back to the same values, fetched as plain column tuples
batch by batch (no ORM objects: an export of a million customers is dominated by what it
fetches per row).
"""

import enum
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, func, literal, select, true
from werkzeug.datastructures import MultiDict
from werkzeug.local import LocalProxy

from ..customers.fields import FIELDS, SECTION_LABELS, CustomerField, Kind, Section
from ..customers.listing import apply_filters, customer_query
from ..customers.models import Customer, CustomerGroup, customer_group_members
from ..extensions import db
from ..registry import registry
from ..sheets.cells import EXPORT_PREFIXED, neutralise

BATCH = 5000


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: Any  # "Customers", "Orders" (lazy, translated)
    columns: Sequence[Any]  # each with .name and .label
    headings: Callable[[list, str | None], list[str]]  # columns, language -> headings
    count: Callable[[str], int]  # the list's query string -> rows to come (for progress)
    # columns, query string, guard formulas? -> rows of text
    rows: Callable[[list, str, bool], Iterator[list[str]]]
    neutralised: bool = False  # rows asked to guard formulas come neutralised
    # For kinds whose rows go by id (customers): the id halfway through the matches, so that
    # two processes can write the two halves; rows() then takes after= and upto= ids.
    middle_id: Callable[[str], int | None] | None = None
    # columns, language -> a function that writes a row's values in that language (for
    # exports with translated headings); None: the values stay as they are.
    translator: Callable[[list, str], Callable[[list[str]], list[str]]] | None = None

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


# --- customers ---------------------------------------------------------------------------------

EXPORTABLE = tuple(f for f in FIELDS if f.editable or f.name in ("id", "created_at",
                                                                  "updated_at"))


def customer_headings(columns: list[CustomerField], language: str | None) -> list[str]:
    """Canonical English headings, or the labels in `language` (shipping ones prefixed)."""
    if not language:
        return [f.heading for f in columns]
    with force_locale(language):
        shipping = str(SECTION_LABELS[Section.SHIPPING])
        return [f"{shipping} {f.label}" if f.section == Section.SHIPPING
                and f.name != "shipping_differs" else str(f.label) for f in columns]


def count_customers(query: str) -> int:
    ids = customer_query(query_args(query))
    return db.session.scalar(select(func.count()).select_from(ids.subquery()))


# A row (its cells joined by SEPARATOR) with a cell that the formula guard would change: the
# rare row that takes the cell-by-cell way. A SEPARATOR inside a text only costs that detour.
# Phone numbers, which mostly start with "+", are guarded in SQL instead.
SEPARATOR = "\x1f"
_GUARDED_CELL = re.compile(SEPARATOR + "[" + re.escape("".join(sorted(EXPORT_PREFIXED))) + "]")


def _sql_cell(field: CustomerField, column, dialect: str, guard: bool = False):
    """The column's cell as the database writes it: final text (formulas aside).

    Doing this in SQL keeps the export near the speed of reading the table: no type
    conversion in Python per cell. `cell` holds the same rules in Python."""
    if field.kind == Kind.BOOL:
        return case((column.is_(None), ""), (column == true(), "yes"), else_="no")
    if field.kind == Kind.TIMESTAMP:  # as cell() writes them: 2026-01-31 09:05:00+00:00
        if dialect == "postgresql":
            text = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
        else:  # SQLite keeps naive UTC as text
            text = func.substr(column, 1, 19)
        return func.coalesce(text + literal("+00:00"), "")
    if field.kind in (Kind.DATE, Kind.INTEGER, Kind.GENDER, Kind.CUSTOMER_TYPE):
        return func.coalesce(cast(column, String), "")
    if guard:
        starts = sorted(EXPORT_PREFIXED)
        return case((func.substr(column, 1, 1).in_(starts), literal("'") + column),
                    else_=func.coalesce(column, ""))
    return func.coalesce(column, "")


def customer_middle_id(query: str) -> int | None:
    ids = customer_query(query_args(query)).order_by(Customer.id)
    total = db.session.scalar(select(func.count()).select_from(ids.subquery()))
    return db.session.scalar(ids.offset(total // 2).limit(1)) if total > 1 else None


def customer_rows(columns: list[CustomerField], query: str, guard: bool = True,
                  after: int = 0, upto: int | None = None) -> Iterator[list[str]]:
    """The customers matching the list's query string, in id order, batch by batch, as rows
    of final text (with guard, formulas neutralised).

    The filters go straight onto a select of the exported cells, read a batch at a time along
    the primary key (no IN over the whole match, no ORM objects); after/upto: ids of a part."""
    table = Customer.__table__
    plain = [f for f in columns if f.kind != Kind.GROUPS]
    group_at = next((i for i, f in enumerate(columns) if f.kind == Kind.GROUPS), None)
    connection = db.session.connection()
    dialect = connection.dialect.name
    # The select holds the id, then the cells the regular expression checks, then the phones
    # (guarded in SQL); `arrange` puts them back in the order of the columns.
    in_sql = [f for f in plain if guard and f.kind == Kind.PHONE]
    checked = [f for f in plain if f not in in_sql]
    selected = checked + in_sql
    arrange = itemgetter(*(1 + selected.index(f) for f in plain))
    checked_at = [i for i, f in enumerate(plain) if f in checked]
    if group_at is not None:
        checked_at = [i + (i >= group_at) for i in checked_at] + [group_at]
    stmt = apply_filters(select(table.c.id, *(_sql_cell(f, table.c[f.name], dialect, True)
                                              if f in in_sql else
                                              _sql_cell(f, table.c[f.name], dialect)
                                              for f in selected)),
                         query_args(query)).order_by(table.c.id).limit(BATCH)
    if upto is not None:
        stmt = stmt.where(table.c.id <= upto)
    join, guarded, end = SEPARATOR.join, _GUARDED_CELL.search, 1 + len(checked)
    last = after
    while True:
        # The session's connection afresh each batch: the export's progress commits between.
        connection = db.session.connection()
        batch = connection.execute(stmt.where(table.c.id > last)).all()
        if not batch:
            return
        groups: dict[int, list[str]] = {}
        if group_at is not None:
            members = connection.execute(
                select(customer_group_members.c.customer_id, CustomerGroup.name)
                .join(CustomerGroup, CustomerGroup.id == customer_group_members.c.group_id)
                .where(customer_group_members.c.customer_id.between(batch[0][0], batch[-1][0])))
            for customer_id, name in members:
                groups.setdefault(customer_id, []).append(name)
        # One look at the whole batch: most batches hold no cell to guard at all.
        suspect = guard and (
            guarded(SEPARATOR + join(chain.from_iterable(row[1:end] for row in batch)))
            or any(guarded(SEPARATOR + join(names)) for names in groups.values()))
        for row in batch:
            cells = list(arrange(row)) if len(plain) > 1 else [row[1]]
            named = ""
            if group_at is not None:
                named = ", ".join(sorted(groups.get(row[0], ())))
                cells.insert(group_at, named)
            if suspect and (guarded(SEPARATOR + join(row[1:end])) or guarded(SEPARATOR + named)):
                for index in checked_at:
                    cells[index] = neutralise(cells[index])
            yield cells
        last = batch[-1][0]


def _customer_translator(columns: list[CustomerField], language: str):
    from .values import customer_translator

    return customer_translator(columns, language)


def init_app(app) -> None:
    registry(app).add_export_kind(ExportKind(
        "customers", _l("Customers"), EXPORTABLE, customer_headings, count_customers,
        customer_rows, neutralised=True, middle_id=customer_middle_id,
        translator=_customer_translator))
