"""The customer register as a kind of export (exports/kinds.py): its columns, headings, count
and rows, added to the app's registry by `init_app`.

The rows come as the database driver gives them, a block per batch, every cell made final in the
select (type, yes/no, formula guard), so that the CSV writer takes a block with one call; a CSV
export without translated values takes the lines joined by the database (`customer_csv_text`).
"""

import csv
import io
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ..exports.csv_text import LINE_END, ROW, csv_block, joined_cells, joined_rows
from ..exports.kinds import ExportKind, query_args
from ..extensions import db
from ..registry import registry
from ..sheets.cells import EXPORT_PREFIXED, neutralise
from ..sheets.writers import CsvText
from .fields import FIELDS, SECTION_LABELS, CustomerField, Kind, Section
from .listing import apply_filters, customer_query
from .models import Customer, CustomerGroup, customer_group_members

BATCH = 5000


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
    return db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()


# The first letters that make a cell a formula, written into the select: each text cell is
# guarded once, by the database, on the way out (neutralise() holds the same rule in Python).
_FORMULA_FIRST = sorted(EXPORT_PREFIXED)
# The same as a GLOB pattern for SQLite (a "-" last in a class is itself): one call, where
# substr() IN (...) made a new text and compared it seven times.
assert not {"]", "^"} & EXPORT_PREFIXED
_FORMULA_GLOB = "[" + "".join(sorted(EXPORT_PREFIXED, key=lambda c: c == "-")) + "]*"


def _sql_cell(field: CustomerField, column, dialect: str, guard: bool = False):
    """The column's cell as the database writes it: final text, with guard formulas
    neutralised.

    Doing this in SQL keeps the export near the speed of reading the table: no type
    conversion or check in Python per cell. `cell` and `neutralise` hold the same rules."""
    # Columns that hold no NULL go without a test for it: a call per cell less, which at a
    # million rows of 44 cells is seconds.
    nullable = getattr(column, "nullable", True)
    if field.kind == Kind.BOOL:
        if not nullable:
            return case((column == true(), "yes"), else_="no")
        return case((column.is_(None), ""), (column == true(), "yes"), else_="no")
    if field.kind == Kind.TIMESTAMP:  # as cell() writes them: 2026-01-31 09:05:00+00:00
        if dialect == "postgresql":
            stamp = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS")
        else:  # SQLite keeps naive UTC as text
            stamp = func.substr(column, 1, 19)
        stamped = stamp + literal("+00:00")
        return func.coalesce(stamped, "") if nullable else stamped
    text: ColumnElement[Any] = column
    if field.kind in (Kind.DATE, Kind.INTEGER, Kind.GENDER, Kind.CUSTOMER_TYPE):
        text = _as_text(column, dialect)
    return _guarded(text, guard, dialect, nullable)


def _as_text(column, dialect: str) -> ColumnElement[Any]:
    """A column of days, numbers or fixed words as text. SQLite keeps days and words as text
    and writes a number as text where text is asked for: no CAST there (a call per cell)."""
    if dialect == "sqlite":
        return type_coerce(column, String)
    return cast(column, String)


def _guarded(text: ColumnElement[Any], guard: bool, dialect: str,
             nullable: bool = True) -> ColumnElement[Any]:
    """A text (or NULL when nullable) as its cell: NULL empty, with guard a formula
    neutralised."""
    whole = func.coalesce(text, "") if nullable else text
    if not guard:
        return whole
    if dialect == "sqlite":
        formula = text.op("GLOB")(literal(_FORMULA_GLOB))
    else:
        formula = func.substr(text, 1, 1).in_(_FORMULA_FIRST)
    return case((formula, literal("'") + text), else_=whole)


def _group_names(dialect: str) -> ColumnElement[Any]:
    """A customer's groups as the groups' cell holds them: the names in code point order
    (Python's sorted()), joined by ", "; NULL without groups."""
    members, groups = customer_group_members.c, CustomerGroup.__table__.c
    table = Customer.__table__
    if dialect == "postgresql":
        # The "C" collation orders by bytes, which in UTF-8 is the code points' order.
        names = (select(func.string_agg(
            groups.name, aggregate_order_by(literal(", "), groups.name.collate("C"))))
            .join_from(customer_group_members, CustomerGroup.__table__,
                       groups.id == members.group_id)
            .where(members.customer_id == table.c.id).correlate(table))
        return names.scalar_subquery()
    # SQLite's BINARY collation compares UTF-8 bytes (the code points' order); group_concat
    # takes the names in the order of the subquery it reads.
    ordered = (select(groups.name.label("name"))
               .join_from(customer_group_members, CustomerGroup.__table__,
                          groups.id == members.group_id)
               .where(members.customer_id == table.c.id).order_by(groups.name)
               .correlate(table).subquery())
    return select(func.group_concat(ordered.c.name, ", ")).correlate(table).scalar_subquery()


def customer_middle_id(query: str) -> int | None:
    ids = customer_query(query_args(query)).order_by(Customer.id)
    total = db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    return db.session.scalar(ids.offset(total // 2).limit(1)) if total > 1 else None


def customer_blocks(columns: list[CustomerField], query: str, guard: bool = True,
                    after: int = 0, upto: int | None = None) -> Iterator[list[Sequence[str]]]:
    """The customers matching the list's query string, in id order, as blocks of rows of
    final text (with guard, formulas neutralised), one block per batch.

    The filters go straight onto a select of the exported cells, read a batch at a time along
    the primary key (no IN over the whole match); the rows are the driver's own tuples (no
    ORM objects, no SQLAlchemy rows), so that a row costs Python next to nothing between the
    database and the CSV writer. after/upto: ids of a part."""
    table = Customer.__table__
    dialect = db.session.connection().dialect.name
    group_at = next((i for i, f in enumerate(columns) if f.kind == Kind.GROUPS), None)
    # The cells in the order of the columns (the groups' cell empty, filled in below). The id
    # to go on from is the id's own cell when exported (rows then go to the writer as they
    # come), else one more column, cut off.
    cells: list[ColumnElement[Any]] = [literal_column("''") if f.kind == Kind.GROUPS
             else cast(table.c.id, String) if f.name == "id"
             else _sql_cell(f, table.c[f.name], dialect, guard) for f in columns]
    width = len(columns)
    id_at = next((i for i, f in enumerate(columns) if f.name == "id"), None)
    if id_at is None:
        cells.append(table.c.id)
        id_at = width
    stmt = apply_filters(select(*cells), query_args(query)).order_by(table.c.id).limit(BATCH)
    if upto is not None:
        stmt = stmt.where(table.c.id <= upto)
    last = after
    while True:
        # The session's connection afresh each batch: the export's progress commits between.
        connection = db.session.connection()
        result = connection.execute(stmt.where(table.c.id > last))
        block: list[Sequence[str]] = list(result.cursor.fetchall())
        result.close()
        if not block:
            return
        ids = [int(row[id_at]) for row in block]
        last = ids[-1]
        if id_at == width:
            block = [row[:width] for row in block]
        if group_at is not None:
            _fill_groups(connection, ids, block, group_at, guard)
        yield block


def _fill_groups(connection, ids: list[int], block: list[Sequence[str]], group_at: int,
                 guard: bool) -> None:
    """Write the names of each member's groups into its row of `block` (in place); ids: the
    rows' customer ids, ascending."""
    result = connection.execute(
        select(customer_group_members.c.customer_id, CustomerGroup.name)
        .join(CustomerGroup, CustomerGroup.id == customer_group_members.c.group_id)
        .where(customer_group_members.c.customer_id.between(ids[0], ids[-1])))
    groups: dict[int, list[str]] = {}
    for customer_id, name in result.cursor.fetchall():
        groups.setdefault(customer_id, []).append(name)
    result.close()
    for customer_id, names in groups.items():
        # Only members among the rows: the range holds customers the filters left out.
        position = bisect_left(ids, customer_id)
        if position < len(ids) and ids[position] == customer_id:
            cells = list(block[position])
            named = ", ".join(sorted(names))
            cells[group_at] = neutralise(named) if guard else named
            block[position] = cells


def customer_csv_text(columns: list[CustomerField], query: str, delimiter: str,
                      after: int = 0, upto: int | None = None) -> Iterator[CsvText]:
    """The rows of `customer_blocks` (guarded) as CSV text, a block of BATCH rows at a time,
    their cells joined by the database (see csv_text.py); after/upto: ids of a part."""
    width = len(columns)
    if width == 1:  # csv.writer writes a row of one empty cell as "": a case of its own
        for single in customer_blocks(columns, query, True, after, upto):
            yield CsvText(_written([single], delimiter), len(single))
        return
    table = Customer.__table__
    dialect = db.session.connection().dialect.name
    cells: list[ColumnElement[Any]] = [
        func.coalesce(_group_names(dialect), "") if f.kind == Kind.GROUPS
        else _as_text(table.c.id, dialect) if f.name == "id"
        else _sql_cell(f, table.c[f.name], dialect) for f in columns]
    line = joined_cells(cells)
    if dialect != "postgresql":  # as UTF-8 bytes (see csv_block)
        line = cast(line, LargeBinary)
    line = line.label("line")
    matches = apply_filters(select(table.c.id.label("id"), line), query_args(query))
    if upto is not None:
        matches = matches.where(table.c.id <= upto)
    stmt = matches.where(table.c.id > bindparam("last")).order_by(table.c.id).limit(BATCH)
    if dialect == "postgresql":
        block = stmt.subquery()
        stmt = select(func.count(), func.max(block.c.id), joined_rows(block.c.line, block.c.id))
    last = after
    while True:
        # The session's connection afresh each block: the export's progress commits between.
        result = db.session.connection().execute(stmt, {"last": last})
        if dialect == "postgresql":
            rows, highest, data = result.one()
        else:  # each row's line: the order of group_concat's is not promised before 3.44
            lines = result.cursor.fetchall()
            rows, highest = len(lines), lines[-1][0] if lines else None
            data = ROW.join([joined for _id, joined in lines])
        result.close()
        if not rows:
            return
        written = csv_block(bytes(data or b""), rows, width, delimiter)
        if written is None:  # a cell holds a separator itself: the general path
            written = _written(customer_blocks(columns, query, True, last, highest), delimiter)
        last = highest
        yield CsvText(written, rows)


def _written(blocks: Iterable[list[Sequence[str]]], delimiter: str) -> bytes:
    """What csv.writer writes of the rows, UTF-8."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=LINE_END)
    for block in blocks:
        writer.writerows(block)
    return text.getvalue().encode()


def customer_rows(columns: list[CustomerField], query: str, guard: bool = True,
                  after: int = 0, upto: int | None = None) -> Iterator[Sequence[str]]:
    """The rows of `customer_blocks` one by one."""
    return chain.from_iterable(customer_blocks(columns, query, guard, after, upto))


def _customer_translator(columns: list[CustomerField], language: str):
    from ..exports.values import customer_translator

    return customer_translator(columns, language)


def init_app(app) -> None:
    registry(app).add_export_kind(ExportKind(
        "customers", _l("Customers"), EXPORTABLE, customer_headings, count_customers,
        customer_rows, neutralised=True, middle_id=customer_middle_id,
        translator=_customer_translator, blocks=customer_blocks,
        csv_text=customer_csv_text))
