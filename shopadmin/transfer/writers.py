"""Writing worksheets: CSV for Excel (comma, or semicolon for European Excel), XLSX and JSON.

CSV and XLSX cells pass through `cells.neutralise`, so no cell runs as a formula, and the
import undoes that exactly: a file written here re-imports unchanged. Rows are streamed.
"""

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from .cells import neutralise

FORMATS = ("csv", "csv_semicolon", "xlsx", "json")
EXTENSIONS = {"csv": "csv", "csv_semicolon": "csv", "xlsx": "xlsx", "json": "json"}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write_worksheet(path: Path, fmt: str, headings: list[str],
                    rows: Iterable[list[str | None]], sheet: str = "Customers") -> int:
    """Write the rows under the headings; returns how many rows were written."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt == "xlsx":
        return _write_xlsx(path, headings, rows, sheet)
    if fmt == "json":
        return _write_json(path, headings, rows)
    # UTF-8 with a byte order mark: Excel then reads every letter of the four languages right.
    # The semicolon is what Excel expects where the comma is the decimal sign (de, fr, pl).
    delimiter = ";" if fmt == "csv_semicolon" else ","
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow([neutralise(h) for h in headings])
        for row in rows:
            writer.writerow([neutralise(cell or "") for cell in row])
            count += 1
    return count


def _write_xlsx(path: Path, headings: list[str], rows: Iterable[list[str | None]],
                sheet_name: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.data_type = "s"  # always text: a postcode keeps its zeros, nothing is a formula
        cell.number_format = "@"
        return cell

    sheet.append([text_cell(h) for h in headings])
    count = 0
    for row in rows:
        sheet.append([text_cell(cell or "") for cell in row])
        count += 1
    workbook.save(path)
    return count


def _write_json(path: Path, headings: list[str], rows: Iterable[list[str | None]]) -> int:
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
