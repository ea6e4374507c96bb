"""Reading the worksheets shops export: CSV/TSV text in the usual encodings, XLSX and ODS.

The format comes from the file's content, never its name. Rows are streamed: memory does not
grow with the file (XLSX through our reader in xlsx.py, CSV through the csv module). Every
cell comes out as text, numbers and dates without loss. Hostile and broken files are refused
with a WorksheetError that says what is wrong, in the staff member's language.
"""

import codecs
import contextlib
import csv
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from ..domain import DomainError
from ..translation import gettext as _
from .cells import neutralise
from .names import encoding_name

MAX_CELL = 1_000_000  # characters in one CSV cell
MAX_ZIP_ENTRIES = 10_000
MAX_UNPACKED = 1_000_000_000  # bytes
MAX_RATIO = 200  # unpacked / packed, for entries above a few megabytes
MAX_ODS_CONTENT = 120_000_000  # bytes of an ODS sheet's XML (some 40,000 rows of 25 columns)
SNIFF_BYTES = 256 * 1024
# estimate_rows: the first bytes of a CSV file whose lines are counted, and the bytes of an
# XLSX sheet's XML taken for one row (a row of 25 cells takes some 750; rather too many rows
# than too few: a big file's estimate chooses a second reading process).
ESTIMATE_CSV_BYTES = 64 * 1024
ESTIMATE_XLSX_ROW_BYTES = 300
HEADING_SCAN_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
LANGUAGE_LETTERS = set("äöüßÄÖÜéèêëàâçîïôûùÿœæÉÈÊËÀÂÇÎÏÔÛÙŸŒÆąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
SINGLE_BYTE_CANDIDATES = ("cp1252", "cp1250", "iso8859_2")
NOT_WORKSHEETS = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")

csv.field_size_limit(MAX_CELL)


class WorksheetError(DomainError):
    """The file cannot be read as a worksheet; the message says why (and where)."""


@dataclass
class Worksheet:
    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    headings: list[str] | None = None
    heading_row: int | None = None
    _skip_to: int = field(default=0, repr=False)
    # An upload read more than once: an XLSX sheet's first complete read is kept (spool.py)
    # and read instead of the sheet. keep_spool=False: a read that no other read follows
    # (an apply after no preview) reads a spool that is there but writes none.
    spool: bool = field(default=False, repr=False)
    keep_spool: bool = field(default=True, repr=False)
    # What the reader noticed in the rows read so far, by row: [(column, message)]. The one
    # who reads the rows takes them out (pipeline.note_cells).
    notes: dict[int, list[tuple[int, str]]] = field(default_factory=dict, repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number as the spreadsheet shows it, cell texts) of every non-blank data row."""
        for number, cells in _raw_rows(self):
            if number <= self._skip_to:
                continue
            if cells and cells[-1].strip():  # (most rows: nothing to trim, not blank)
                yield number, cells
            elif any(cell.strip() for cell in cells):
                yield number, _trim(cells)

    def count_rows(self) -> int:
        """How many data rows there are, for a progress bar. An XLSX sheet's rows are counted
        in its XML without reading their cells (five times faster than reading them; a row
        with nothing but formatting counts too); other files are read."""
        if self.format == "xlsx":
            rows = _xlsx_row_count(self.path)
            if rows is not None:
                return max(rows - self._skip_to, 0)
        return sum(1 for _ in self.rows())

    def estimate_rows(self) -> int:
        """About how many data rows there are, without reading them (count_rows reads them):
        a CSV file's size over the length of its first lines, an XLSX sheet's unpacked size
        over ESTIMATE_XLSX_ROW_BYTES; other files are counted."""
        if self.format == "csv":
            size = self.path.stat().st_size
            with self.path.open("rb") as handle:
                head = handle.read(ESTIMATE_CSV_BYTES)
            lines = head.count(b"\n") + (not head.endswith(b"\n"))
            return max(lines if size <= len(head) else size * lines // len(head), 1)
        if self.format == "xlsx":
            with contextlib.suppress(Exception):  # (as _xlsx_row_count: then the rows count)
                with zipfile.ZipFile(self.path) as archive:
                    part = archive.getinfo(_first_sheet(archive))
                return part.file_size // ESTIMATE_XLSX_ROW_BYTES
        return self.count_rows()

    def sample(self, n: int = 5) -> list[list[str]]:
        result = []
        for _number, cells in self.rows():
            result.append(cells)
            if len(result) >= n:
                break
        return result


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def open_worksheet(path: Path, *, has_headings: bool | None = None,
                   encoding: str | None = None, delimiter: str | None = None,
                   spool: bool = False, keep_spool: bool = True) -> Worksheet:
    """Recognise the file and its heading row; raises WorksheetError for what is no worksheet.
    spool: the file is an upload that may be read again (see spool.py); keep_spool=False:
    not after this read, so none is written."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise WorksheetError(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        sheet = Worksheet(path, _zip_format(path))
    elif re.match(rb"(\xef\xbb\xbf)?\s*\[\s*\{", head):
        sheet = Worksheet(path, "json", "utf-8")
    elif head.startswith(NOT_WORKSHEETS) or (_binary(head) and not _utf16(head)):
        raise WorksheetError(_("This file is not a worksheet. Upload a CSV, XLSX or ODS file."))
    else:
        encoding = encoding or detect_encoding(path, head)
        text = _decode_sample(head, encoding)
        sheet = Worksheet(path, "csv", encoding, delimiter or detect_delimiter(text))
    sheet.spool, sheet.keep_spool = spool, keep_spool
    _find_headings(sheet, has_headings)
    return sheet


def _binary(head: bytes) -> bool:
    """Control characters that no text worksheet contains."""
    sample = head[:8192]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > max(2, len(sample) // 200)


# -- zip containers -----------------------------------------------------------------------

def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise WorksheetError(_("The file holds too many parts to be a worksheet."))
            unpacked = sum(entry.file_size for entry in entries)
            for entry in entries:
                if entry.file_size > 5_000_000 and (
                        entry.file_size > MAX_RATIO * max(entry.compress_size, 1)):
                    raise WorksheetError(_("The file unpacks to far more than it holds; it "
                                           "is refused as a possible zip bomb."))
            if unpacked > MAX_UNPACKED:
                raise WorksheetError(_("The file unpacks to more than %(size)s; it is refused.",
                                       size="1 GB"))
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                return "ods"
    except zipfile.BadZipFile:
        raise WorksheetError(_("The file is damaged and cannot be opened.")) from None
    raise WorksheetError(_("This file is not a worksheet. Upload a CSV, XLSX or ODS file."))


def cell_text(value) -> str:
    """A spreadsheet value as the text a person sees: no 3.1e+10, no 1234.0, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(sheet: Worksheet) -> Iterator[tuple[int, list[str]]]:
    from .spool import spooled_rows, spooling
    from .xlsx_reader import XlsxError, xlsx_rows

    rows = spooled_rows(sheet.path) if sheet.spool else None
    if rows is None:
        rows = xlsx_rows(sheet.path, cell_text)
        if sheet.spool and sheet.keep_spool:
            rows = spooling(sheet.path, rows)
    try:
        for number, cells, formulas in rows:
            if formulas and number > sheet._skip_to:
                sheet.notes[number] = [(column, _(
                    "A formula without a stored result: the cell was read as empty. Open the "
                    "file in your spreadsheet program, save it, and upload it again."))
                    for column in formulas]
            yield number, cells
    except (XlsxError, KeyError, StopIteration, ValueError, IndexError, zipfile.BadZipFile,
            expat.ExpatError, ParseError, zlib.error, EOFError) as error:
        raise WorksheetError(_("The XLSX file cannot be read: %(error)s",
                               error=type(error).__name__)) from None


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_SHEET_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s/>]")


def _xlsx_row_count(path: Path) -> int | None:
    """The <row> elements of the workbook's first sheet, counted in the unpacked XML as it
    streams by (constant memory); None when the parts are not where they should be."""
    try:
        with zipfile.ZipFile(path) as archive:
            count, tail = 0, b""
            with archive.open(_first_sheet(archive)) as sheet:
                head = sheet.read(1 << 20)
                # The rows written with the sheet's own prefix ("" or "x:") are found by
                # their literal start, which the regular expression engine looks for without
                # stopping at every other tag (a fifth of the time); tags of any prefix are
                # the fallback.
                found = _SHEET_PREFIX.search(head)
                tag = b"<" + (found.group(1) or b"") + b"row" if found else None
                rows = re.compile(re.escape(tag) + rb"[\s/>]") if tag else _ROW_TAG
                keep = len(tag) if tag else 64
                chunk = head
                while chunk:
                    data = tail + chunk
                    count += len(rows.findall(data))
                    if tag:  # (too short for a whole row tag: counted with the next chunk)
                        tail = data[-keep:]
                    else:  # an unfinished tag waits for the next chunk (not one counted)
                        start = data.rfind(b"<", max(len(data) - keep, 0))
                        tail = data[start:] if start >= 0 and not _ROW_TAG.match(
                            data, start) else b""
                    chunk = sheet.read(1 << 20)
            return count
    except Exception:  # noqa: BLE001  (parts missing, broken or refused XML: read the rows)
        return None


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The name of the workbook's first sheet in the package (as the reader finds it)."""
    from .xlsx_reader import sheet_part

    return sheet_part(archive)[0]


def _ods_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from python_calamine import CalamineWorkbook

    # The ODS reader holds the whole sheet in memory (about as much as its unpacked XML):
    # beyond this, the file is refused with a way round, not read into a machine's memory.
    with zipfile.ZipFile(path) as archive:
        content = next((e for e in archive.infolist() if e.filename == "content.xml"), None)
    if content is not None and content.file_size > MAX_ODS_CONTENT:
        raise WorksheetError(_("This ODS file is too large to be read here (%(size)s unpacked). "
                               "Save it as XLSX or CSV and upload that.",
                               size=f"{content.file_size // 1_000_000} MB"))
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    except Exception as error:  # noqa: BLE001
        raise WorksheetError(_("The ODS file cannot be read: %(error)s",
                               error=type(error).__name__)) from None
    for number, values in enumerate(sheet.iter_rows(), start=1):
        yield number, [cell_text(value) for value in values]


# -- text files -----------------------------------------------------------------------------

def _utf16(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:2000]
    if len(sample) > 20 and sample[1::2].count(0) > len(sample) // 3:
        return "utf-16-le"
    if len(sample) > 20 and sample[0::2].count(0) > len(sample) // 3:
        return "utf-16-be"
    return None


_ASCII_BYTES = bytes(range(128))


def detect_encoding(path: Path, head: bytes) -> str:
    """BOMs first, then strict UTF-8 over the whole file, then the single-byte code page whose
    letters read as German, French, English or Polish."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf16 := _utf16(head):
        return utf16
    decoder = codecs.getincrementaldecoder("utf-8")()
    non_ascii = bytearray()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                if len(non_ascii) < 100_000:  # (the bytes above 127, taken out in C)
                    non_ascii += chunk.translate(None, _ASCII_BYTES)
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass

    def score(name: str) -> int:
        text = bytes(non_ascii).decode(name, errors="replace")
        return sum(ch in LANGUAGE_LETTERS for ch in text)

    return max(SINGLE_BYTE_CANDIDATES, key=score)


def _decode_sample(head: bytes, encoding: str) -> str:
    return head.decode(encoding, errors="ignore")


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number of cells most often."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    best, best_score = ",", -1
    for candidate in DELIMITERS:
        counts = []
        for line in lines:
            try:
                counts.append(len(next(csv.reader([line], delimiter=candidate))) - 1)
            except (csv.Error, StopIteration):
                counts.append(0)
        used = [count for count in counts if count > 0]
        if not used:
            continue
        common = max(set(used), key=used.count)
        score = used.count(common) * 1000 + common
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_rows(sheet: Worksheet) -> Iterator[tuple[int, list[str]]]:
    with sheet.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=sheet.encoding, errors="strict", newline="")
        reader = csv.reader(text, delimiter=sheet.delimiter, strict=True)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                problem = str(error)
                if "field larger" in problem:
                    message = _("Row %(row)d has a cell longer than %(limit)s characters; "
                                "check for a missing closing quote above it.",
                                row=number + 1, limit=f"{MAX_CELL:,}")
                else:
                    message = _("Row %(row)d cannot be read: a quotation mark is not closed.",
                                row=number + 1)
                raise WorksheetError(message) from None
            except UnicodeDecodeError:
                raise WorksheetError(_("Row %(row)d contains bytes that are not valid "
                                       "%(encoding)s; save the file as UTF-8 and upload it "
                                       "again.", row=number + 1,
                                       encoding=encoding_name(sheet.encoding))
                                     ) from None
            number += 1
            yield number, cells


def _json_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Our own JSON export (a list of objects with the same keys): the keys are the headings.
    It is read whole, unlike the worksheets; exports of shopadmin are what it is for."""
    try:
        records = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        raise WorksheetError(_("The JSON file cannot be read.")) from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise WorksheetError(_("The JSON file is not a list of customers."))
    keys = list(records[0]) if records else []
    yield 1, keys
    for number, record in enumerate(records, start=2):
        # JSON cells are written as they are; the import undoes the formula guard of every
        # cell, so put it on here to get the exact text back.
        yield number, [neutralise(cell_text(record.get(key))) for key in keys]


def _raw_rows(sheet: Worksheet) -> Iterator[tuple[int, list[str]]]:
    if sheet.format == "json":
        return _json_rows(sheet.path)
    if sheet.format == "xlsx":
        return _xlsx_rows(sheet)
    if sheet.format == "ods":
        return _ods_rows(sheet.path)
    return _csv_rows(sheet)


def _find_headings(sheet: Worksheet, has_headings: bool | None) -> None:
    """Skip title and blank rows: the headings are the first row about as wide as the data."""
    first_rows = []
    for number, cells in _raw_rows(sheet):
        if any(cell.strip() for cell in cells):
            first_rows.append((number, _trim(cells)))
        if len(first_rows) >= HEADING_SCAN_ROWS:
            break
    if not first_rows:
        raise WorksheetError(_("The file has no rows."))
    if has_headings is False:
        return
    width = max(len(cells) for _n, cells in first_rows)
    for number, cells in first_rows:
        filled = sum(1 for cell in cells if cell.strip())
        if filled >= max(2, width // 2) or width == 1:
            if has_headings is None:
                from ..imports.headings import looks_like_headings

                if not looks_like_headings(cells):
                    return
            sheet.headings = [cell.strip() for cell in cells]
            sheet.heading_row = number
            sheet._skip_to = number
            return
