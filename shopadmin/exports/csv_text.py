"""CSV lines written by the database: the fast path of a CSV export.

Python's `csv.writer` (QUOTE_MINIMAL, line ending CR LF) puts a field in double quotes, its
quotes doubled, when it holds the delimiter, a double quote, a carriage return or a line feed,
and writes a row of one empty field as `""`; everything else goes as it is. The same rule is
written here in SQL, so that the database hands over a block of rows as one text (SQLite's
`group_concat`, PostgreSQL's `string_agg`) instead of a tuple of cells per row: the Python
objects per row were what an export of a million customers spent its time on. The files are
byte for byte those of `csv.writer` (tests/http/test_export_csv_text.py compares both paths
with awkward values on each database).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by

LINE_END = "\r\n"


def _needs_quotes(field: ColumnElement[Any], delimiter: str, dialect: str) -> ColumnElement[Any]:
    characters = f'{delimiter}"\r\n'
    if dialect == "postgresql":
        return field.op("~")(literal(f"[{characters}]"))
    return field.op("GLOB")(literal(f"*[{characters}]*"))


def csv_field(field: ColumnElement[Any], delimiter: str, dialect: str) -> ColumnElement[Any]:
    """A text (never NULL) as csv.writer writes it as a field."""
    return case((_needs_quotes(field, delimiter, dialect),
                 literal('"') + func.replace(field, '"', '""') + literal('"')),
                else_=field)


def csv_line(fields: Sequence[ColumnElement[Any]], delimiter: str,
             dialect: str) -> ColumnElement[Any]:
    """One row's line, its end (CR LF) included; fields: texts, never NULL."""
    quoted = [csv_field(field, delimiter, dialect) for field in fields]
    line = quoted[0]
    for field in quoted[1:]:
        line = line + literal(delimiter) + field
    if len(quoted) == 1:  # a row of one empty field is written "" (not an empty line)
        line = case((line == "", literal('""')), else_=line)
    return line + literal(LINE_END)


def joined_lines(line: ColumnElement[Any], order: ColumnElement[Any],
                 dialect: str) -> ColumnElement[Any]:
    """The aggregate that joins a block's lines in `order` into one text."""
    if dialect == "postgresql":
        return func.string_agg(aggregate_order_by(line, order), literal(""))
    # SQLite (before 3.44) has no ORDER BY inside group_concat; it takes the rows in the order
    # the subquery below it yields them, which is `order` (see the caller's select).
    return func.group_concat(line, literal(""))
