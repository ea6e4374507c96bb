"""Writing worksheets: CSV for Excel (comma, or semicolon for European Excel), XLSX and JSON.

CSV and XLSX cells pass through `cells.neutralise` (unless the rows come neutralised already),
so no cell runs as a formula, and the import undoes that exactly: a file written here
re-imports unchanged. JSON holds the texts as they are. Rows are streamed; XLSX through our
streaming sheet writer (xlsx_writer.py) in constant memory, every cell text.
"""

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..batching import batched
from .cells import neutralise

# Rows given one by one go to the CSV writer this many at a time.
BLOCK = 1000
FORMATS = ("csv", "csv_semicolon", "xlsx", "json")
# Each CSV format's delimiter: the semicolon is what Excel expects where the comma is the
# decimal sign (de, fr, pl).
DELIMITERS = {"csv": ",", "csv_semicolon": ";"}
EXTENSIONS = {"csv": "csv", "csv_semicolon": "csv", "xlsx": "xlsx", "json": "json"}
MEDIA_TYPES = {
    "csv": "text/csv",  # the response adds "; charset=utf-8" to any text/* type
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class CsvText:
    """Rows already written as CSV lines (each ending in CR LF, as csv.writer writes them),
    UTF-8: `rows` of them in `data`. A block that write_csv writes as it is."""
    data: bytes
    rows: int

    def __len__(self) -> int:
        return self.rows


def write_worksheet(path: Path, fmt: str, headings: list[str] | None,
                    rows: Iterable[list[str | None]], sheet: str = "Customers",
                    neutralised: bool = False) -> int:
    """Write the rows under the headings; returns how many rows were written.

    neutralised: the rows' cells are final text, formulas neutralised (see export_kinds).
    headings None (CSV only): the rows alone, without byte order mark, to be appended to a file
    that has them."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt == "json":
        return _write_json(path, headings, rows)
    if not neutralised:
        rows = ([neutralise(cell or "") for cell in row] for row in rows)
    if fmt != "xlsx":
        return write_csv(path, fmt, headings, batched(rows, BLOCK))
    return _write_xlsx(path, [neutralise(h) for h in headings or []], rows, sheet)


def write_csv(path: Path, fmt: str, headings: list[str] | None,
              blocks: Iterable[list[Sequence[str | None]] | CsvText]) -> int:
    """Write CSV rows that come in blocks (final text, formulas neutralised), each block with
    one call of the writer (or as it is, when it comes as CsvText), under the headings;
    returns how many rows were written.
    headings None: the rows alone, without byte order mark, to be appended to a file that has
    them."""
    # UTF-8 with a byte order mark: Excel then reads every letter of the four languages right.
    # The mark is written as a character: the "utf-8-sig" codec is Python code called on every
    # write, "utf-8" the built-in one.
    delimiter = DELIMITERS[fmt]
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        if headings is not None:
            handle.write("\ufeff")
            writer.writerow([neutralise(heading) for heading in headings])
        for block in blocks:
            if isinstance(block, CsvText):
                handle.flush()
                handle.buffer.write(block.data)
            else:
                writer.writerows(block)
            count += len(block)
    return count


def _write_xlsx(path: Path, headings: list[str], rows: Iterable[list[str]],
                sheet_name: str) -> int:
    from .xlsx_writer import write_xlsx

    return write_xlsx(Path(path), headings, rows, sheet_name)


def _write_json(path: Path, headings: list[str], rows: Iterable[list[str]]) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        handle.write("[")
        for row in rows:
            handle.write(",\n" if count else "\n")
            json.dump(dict(zip(headings, (cell or "" for cell in row), strict=False)), handle,
                      ensure_ascii=False)
            count += 1
        handle.write("\n]\n")
    return count
