"""What can be exported: each kind names its columns, headings, count and rows.

The customer register registers itself here; other parts (orders) add their kinds with
`register_export_kind`. A kind's rows are lists of text cells that the import reads back to the
same values, fetched as plain column tuples batch by batch (no ORM objects: an export of a
million customers is dominated by what it fetches per row).
"""

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..customers.fields import FIELDS, SECTION_LABELS, CustomerField, Kind, Section
from ..customers.listing import customer_query
from ..customers.models import Customer, CustomerGroup, customer_group_members
from ..extensions import db

BATCH = 5000


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: Any  # "Customers", "Orders" (lazy, translated)
    columns: Sequence[Any]  # each with .name and .label
    headings: Callable[[list, str | None], list[str]]  # columns, language -> headings
    count: Callable[[str], int]  # the list's query string -> rows to come (for progress)
    rows: Callable[[list, str], Iterator[list[str]]]  # columns, query string -> rows

    def columns_for(self, names: Sequence[str] | None) -> list:
        chosen = [c for c in self.columns if not names or c.name in names]
        return chosen or list(self.columns)


EXPORT_KINDS: dict[str, ExportKind] = {}


def register_export_kind(kind: ExportKind) -> None:
    EXPORT_KINDS[kind.name] = kind


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


def customer_rows(columns: list[CustomerField], query: str) -> Iterator[list[str]]:
    """The customers matching the list's query string, in id order, batch by batch."""
    ids = customer_query(query_args(query))
    table = Customer.__table__
    plain = [f for f in columns if f.kind != Kind.GROUPS]
    wants_groups = len(plain) < len(columns)
    booleans = [f.kind == Kind.BOOL for f in columns]
    stmt = select(table.c.id, *(table.c[f.name] for f in plain)).where(table.c.id.in_(ids))
    last = 0
    while True:
        batch = db.session.execute(
            stmt.where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not batch:
            return
        groups: dict[int, list[str]] = {}
        if wants_groups:
            members = db.session.execute(
                select(customer_group_members.c.customer_id, CustomerGroup.name)
                .join(CustomerGroup, CustomerGroup.id == customer_group_members.c.group_id)
                .where(customer_group_members.c.customer_id.in_([row[0] for row in batch])))
            for customer_id, name in members:
                groups.setdefault(customer_id, []).append(name)
        for row in batch:
            values = iter(row[1:])
            yield [", ".join(sorted(groups.get(row[0], []))) if f.kind == Kind.GROUPS
                   else cell(next(values), boolean) for f, boolean in zip(columns, booleans,
                                                                         strict=True)]
        last = batch[-1][0]


register_export_kind(ExportKind(
    "customers", _l("Customers"), EXPORTABLE, customer_headings, count_customers, customer_rows))
