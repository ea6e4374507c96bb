"""CSV text made from rows the database joined: the fast path of a CSV export.

The database joins each row's cells (final text: yes/no, moments, dates; no formula guard, no
quotes) with CELL between them, and the rows of a block with ROW: one Python text per block
(PostgreSQL's `string_agg`) or per row (SQLite), not a Python object per cell, which was what an
export of a million customers spent its time on. `csv_block` then does to the whole block with
a few passes of str.replace (C speed) what `cells.neutralise` and `csv.writer` (QUOTE_MINIMAL,
CR LF) do per cell:
- a cell that starts with a formula's first letter gets an apostrophe before it;
- a cell that holds the delimiter, a double quote, a carriage return or a line feed is put in
  double quotes, its quotes doubled.
A cell that itself holds CELL or ROW would shift the cells: the counts of both tell, and such a
block is written by the general path instead (`csv_block` returns None). The files are byte for
byte those of csv.writer (tests/http/test_export_csv_text.py compares both paths with awkward
values on each database; the export bench compares them at a million rows).
"""

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ..sheets.cells import EXPORT_PREFIXED

CELL = b"\x1f"  # ASCII's unit separator
ROW = b"\x1e"  # and record separator
LINE_END = "\r\n"
_STARTS = (CELL, ROW)
# The apostrophe first: the guard of the others puts one at a cell's start.
_FIRSTS = [first.encode() for first in sorted(EXPORT_PREFIXED, key=lambda first: first != "'")]


def joined_cells(cells: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """A row's cells (texts, never NULL) joined by CELL."""
    joined = cells[0]
    for cell in cells[1:]:
        joined = joined + literal(CELL.decode()) + cell
    return joined


def joined_rows(line: ColumnElement[Any], order: ColumnElement[Any]) -> ColumnElement[Any]:
    """PostgreSQL's aggregate that joins a block's rows in `order` by ROW, as UTF-8 bytes."""
    return func.convert_to(
        func.string_agg(line, aggregate_order_by(literal(ROW.decode()), order)), "UTF8")


def _specials(delimiter: str) -> re.Pattern:
    """Any character a cell must be quoted for."""
    return re.compile(b"[" + re.escape(f'{delimiter}"\r\n').encode() + b"]")


_PATTERNS = {delimiter: _specials(delimiter) for delimiter in (",", ";")}


def _cells_quoted(data: bytes, delimiter: str) -> bytes:
    """`data` with each cell that holds a character to quote for put in double quotes, its
    quotes doubled. Such cells are few: each is found from the character (a scan at C speed,
    where a pattern for the whole cell tried every position), then its bounds."""
    pattern = _PATTERNS.get(delimiter) or _specials(delimiter)
    parts: list[bytes] = []
    done = 0  # data before this is in parts
    for found in pattern.finditer(data):
        at = found.start()
        if at < done:  # in a cell quoted already
            continue
        start = max(data.rfind(CELL, 0, at), data.rfind(ROW, 0, at)) + 1
        ends = [end for end in (data.find(CELL, at), data.find(ROW, at)) if end >= 0]
        end = min(ends) if ends else len(data)
        parts += [data[done:start], b'"', data[start:end].replace(b'"', b'""'), b'"']
        done = end
    if not parts:
        return data
    parts.append(data[done:])
    return b"".join(parts)


def csv_block(data: bytes, rows: int, width: int, delimiter: str) -> bytes | None:
    """The CSV lines (formulas guarded, quoted as csv.writer quotes) of `rows` rows of `width`
    cells, UTF-8, joined by CELL and ROW (no ROW after the last); None when a cell holds CELL
    or ROW itself (the block must then be written from its cells).

    In UTF-8 no byte of a letter beyond ASCII is an ASCII byte, so the passes over the bytes
    see the same cells as passes over the text, at memchr's speed."""
    if data.count(CELL) != rows * (width - 1) or data.count(ROW) != rows - 1:
        return None
    data = ROW + data
    for first in _FIRSTS:
        if first in data:
            for start in _STARTS:
                data = data.replace(start + first, start + b"'" + first)
    data = _cells_quoted(data, delimiter)
    return data[1:].replace(CELL, delimiter.encode()).replace(ROW, b"\r\n") + b"\r\n"
