"""Writing an XLSX workbook of text cells, streamed: one sheet, every cell an inline string.

No kept library writes a sheet of a million rows fast enough in constant memory (XlsxWriter's
constant-memory mode wrote the export bench's customers at 5,470 rows a second, and 50,000 of
its rows some eight times slower than this writer, side by side), so this writes the sheet's
XML itself, row by row, straight into the compressed part: memory does not grow with the rows.
The file is plain SpreadsheetML as Excel writes it; tests/unit/test_xlsx_files.py opens it in
openpyxl, in calamine (the Rust reader) and in our own reader.

Every cell is text (an inline string, never a number, formula or link: what the export wrote
is what comes back), and the columns carry Excel's text format "@", so that what staff type
into them stays text too (postcodes). Characters that XML cannot hold are written as OOXML's
_xHHHH_ escapes (a carriage return: _x000D_), and a text that looks like one such escape is
escaped itself, so that every text reads back exactly.
"""

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
# zlib's fastest level: the sheet XML is most of the work, and level 6 halves the speed for
# a file a quarter smaller.
COMPRESS_LEVEL = 1
BUFFER_ROWS = 500
# What a text cell cannot hold as it is: XML's markup characters, characters XML 1.0 does not
# allow (written as _xHHHH_), a carriage return (XML readers make it a line feed), something
# that reads as an _xHHHH_ escape, and spaces at either end (kept with xml:space). A row's texts
# are checked at once, joined by SEPARATOR (left out of the characters, and counted instead);
# one with a tab or line feed anywhere takes the careful way.
_SPECIAL = re.compile(r"[&<>\x00-\x1e\ufffe\uffff]")
SEPARATOR = "\x1f"
SPACES = (" ", "\t", "\n")
_ESCAPED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
_ROOT_RELATIONSHIPS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PACKAGE}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK_RELATIONSHIPS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PACKAGE}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>'
    '</Relationships>')
# Two cell styles: 0 the default, 1 Excel's text format (number format 49, "@").
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>')


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    """The cell text as XML character data of a <t> element (with its start tag)."""
    value = _ESCAPED.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_",
                         value)
    space = ' xml:space="preserve"' if value.startswith(SPACES) or value.endswith(SPACES) else ""
    return f"<t{space}>{escape(value)}</t>"


def write_xlsx(path: Path, headings: list[str] | None, rows: Iterable[list[str | None]],
               sheet_name: str = "Sheet1") -> int:
    """Write the headings and rows as text cells; returns how many rows (without the headings)
    were written. The cells are written as they are: neutralise formulas before."""
    width = len(headings or ())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELATIONSHIPS)
        book.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
            f'<sheet name={quoteattr(_sheet_name(sheet_name))} sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>'))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELATIONSHIPS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            return _write_sheet(part, headings, rows, width)


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31].strip() or "Sheet1"


def _write_sheet(part, headings: list[str] | None, rows, width: int) -> int:
    head = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">']
    if width:
        head.append(f'<cols><col min="1" max="{width}" width="18" style="1"/></cols>')
    head.append("<sheetData>")
    part.write("".join(head).encode())
    letters: list[str] = []
    buffer: list[str] = []
    count = 0
    number = 1
    for cells in ([headings] if headings is not None else []), rows:
        for row in cells:
            if len(row) > len(letters):
                letters.extend(_letters(i) for i in range(len(letters), len(row)))
            buffer.append(_row(number, row, letters))
            number += 1
            if len(buffer) >= BUFFER_ROWS:
                part.write("".join(buffer).encode())
                buffer.clear()
    count = number - 1 - (headings is not None)
    buffer.append("</sheetData></worksheet>")
    part.write("".join(buffer).encode())
    return count


def _plain(joined: str, cells: int) -> bool:
    """Whether a row's texts (joined by SEPARATOR) can be written as they are."""
    return (_SPECIAL.search(joined) is None and "_x" not in joined
            and " \x1f" not in joined and "\x1f " not in joined
            and not joined.startswith(" ") and not joined.endswith(" ")
            and joined.count(SEPARATOR) == cells - 1)


def _row(number: int, row: list[str | None], letters: list[str]) -> str:
    """One <row> element; its cells in one pass, the texts escaped only where they need it."""
    if _plain(SEPARATOR.join([value or "" for value in row]), len(row)):
        return f'<row r="{number}">' + "".join([
            f'<c r="{letters[column]}{number}" s="1" t="inlineStr"><is><t>{value}</t></is></c>'
            for column, value in enumerate(row) if value]) + "</row>"
    return f'<row r="{number}">' + "".join([
        f'<c r="{letters[column]}{number}" s="1" t="inlineStr"><is>{_text(value)}</is></c>'
        for column, value in enumerate(row) if value]) + "</row>"
