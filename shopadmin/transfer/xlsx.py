"""Reading an XLSX worksheet as a person sees it in their spreadsheet program, streamed.

The sheet's XML is parsed by expat as it is unpacked (memory stays flat whatever the size), and
each cell comes out as the text the spreadsheet shows: a number formatted `00000` keeps its
leading zeros (`01067`), a date formatted as one is a date, `_x000D_` escapes are undone. A
formula without a stored result (a file written by a program that does not calculate) is named
in a note, for the import to warn about. No document type declaration is accepted, so no entity
can expand (defusedxml's rule, applied to expat directly).
"""

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from defusedxml.ElementTree import fromstring
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

CHUNK = 1 << 20
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ZEROS = re.compile(r"0+")
_LETTERS = re.compile(r"[A-Z]+")


class XlsxError(Exception):
    """The file is no XLSX workbook we read (or one that declares a document type)."""


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold as _xHHHH_ (a carriage return: _x000D_)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _parser(start, end, characters) -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16

    def refuse(*_args):
        raise XlsxError("document type declarations are not accepted")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    return parser


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _parts(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The first sheet's part name, and whether dates count from 1904."""
    workbook = fromstring(archive.read("xl/workbook.xml"))
    first = next(e for e in workbook.iter() if e.tag.endswith("}sheet"))
    properties = next((e for e in workbook.iter() if e.tag.endswith("}workbookPr")), None)
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    relations = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(e.get("Target") for e in relations if e.get("Id") == first.get(_RELATIONSHIPS))
    return (target.lstrip("/") if target.startswith("/") else f"xl/{target}"), date1904


def _formats(archive: zipfile.ZipFile) -> list[str]:
    """The number format of each cell style (its index is a cell's `s`)."""
    try:
        styles = fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return []
    custom = {int(e.get("numFmtId")): e.get("formatCode", "")
              for e in styles.iter() if e.tag.endswith("}numFmt")}
    cell_xfs = next((e for e in styles.iter() if e.tag.endswith("}cellXfs")), None)
    formats = []
    for xf in cell_xfs if cell_xfs is not None else ():
        number = int(xf.get("numFmtId", "0"))
        formats.append(custom.get(number) or BUILTIN_FORMATS.get(number, "General"))
    return formats


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    strings: list[str] = []
    state = {"parts": None, "text": False, "phonetic": 0}

    def start(name, _attrs):
        name = _local(name)
        if name == "si":
            state["parts"] = []
        elif name == "t" and state["parts"] is not None and not state["phonetic"]:
            state["text"] = True
        elif name == "rPh":
            state["phonetic"] += 1

    def end(name):
        name = _local(name)
        if name == "t":
            state["text"] = False
        elif name == "rPh":
            state["phonetic"] -= 1
        elif name == "si":
            strings.append(_unescape("".join(state["parts"])))
            state["parts"] = None

    def characters(data):
        if state["text"]:
            state["parts"].append(data)

    try:
        source = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return strings
    parser = _parser(start, end, characters)
    with source:
        while chunk := source.read(CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return strings


class _Cells:
    """The expat handlers of a sheet: collects finished rows and the notes on their cells."""

    def __init__(self, strings: list[str], formats: list[str], epoch, cell_text):
        self.strings, self.formats, self.epoch, self.cell_text = strings, formats, epoch, cell_text
        self.rows: list[tuple[int, list[str]]] = []
        # The columns of each row's formulas without a result.
        self.formulas: dict[int, list[int]] = {}
        self.number, self.cells = 0, []
        self.column, self.kind, self.style = -1, "n", 0
        self.parts: list[str] | None = None
        self.value: str | None = None
        self.formula = False
        self.numeric_formats: dict[int, tuple[str, int]] = {}

    def start(self, name, attrs):
        name = _local(name)
        if name == "c":
            ref = attrs.get("r")
            self.column = _column(ref) if ref else self.column + 1
            self.kind = attrs.get("t", "n")
            self.style = int(attrs.get("s", 0))
            self.value, self.formula = None, False
        elif name == "v" or (name == "t" and self.kind == "inlineStr"):
            self.parts = []
        elif name == "f":
            self.formula = True
        elif name == "row":
            ref = attrs.get("r")
            self.number = int(ref) if ref else self.number + 1
            self.cells, self.column = [], -1

    def characters(self, data):
        if self.parts is not None:
            self.parts.append(data)

    def end(self, name):
        name = _local(name)
        if name == "v" or (name == "t" and self.parts is not None):
            self.value = "".join(self.parts) if self.value is None else \
                self.value + "".join(self.parts)
            self.parts = None
        elif name == "c":
            text = self._text()
            if text:
                cells = self.cells
                if len(cells) <= self.column:
                    cells.extend([""] * (self.column + 1 - len(cells)))
                cells[self.column] = text
        elif name == "row":
            self.rows.append((self.number, self.cells))

    def _text(self) -> str:
        value, kind = self.value, self.kind
        if not value:
            if self.formula:
                self.formulas.setdefault(self.number, []).append(self.column)
            return ""
        if kind == "s":
            return self.strings[int(value)]
        if kind in ("inlineStr", "str"):
            return _unescape(value)
        if kind == "b":
            return "1" if value.strip() == "1" else "0"
        if kind in ("e", "d"):
            return value
        return self._number(value)

    def _number(self, value: str) -> str:
        style = self.style
        if style not in self.numeric_formats:
            code = self.formats[style] if style < len(self.formats) else "General"
            if _ZEROS.fullmatch(code):
                self.numeric_formats[style] = ("zeros", len(code))
            elif is_date_format(code):
                self.numeric_formats[style] = ("date", 0)
            else:
                self.numeric_formats[style] = ("number", 0)
        how, width = self.numeric_formats[style]
        number = float(value) if any(ch in value for ch in ".eE") else int(value)
        if how == "zeros" and float(number).is_integer():
            return str(int(number)).zfill(width)
        if how == "date":
            try:
                return self.cell_text(from_excel(number, self.epoch))
            except (ValueError, OverflowError):
                pass
        return self.cell_text(number)


def _column(ref: str) -> int:
    letters = _LETTERS.match(ref)
    index = 0
    for letter in letters.group(0) if letters else "A":
        index = index * 26 + ord(letter) - 64
    return index - 1


def xlsx_rows(path: Path, cell_text) -> Iterator[tuple[int, list[str], list[int]]]:
    """(row number, cell texts, columns holding a formula without a result) of the first
    sheet, streamed. Raises XlsxError, zipfile and expat errors for a broken file."""
    with zipfile.ZipFile(path) as archive:
        name, date1904 = _parts(archive)
        epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        cells = _Cells(_shared_strings(archive), _formats(archive), epoch, cell_text)
        parser = _parser(cells.start, cells.end, cells.characters)
        with archive.open(name) as sheet:
            while True:
                chunk = sheet.read(CHUNK)
                parser.Parse(chunk, not chunk)
                yield from _finished(cells)
                if not chunk:
                    break


def _finished(cells: _Cells) -> Iterator[tuple[int, list[str], list[int]]]:
    rows, cells.rows = cells.rows, []
    for number, values in rows:
        yield number, values, cells.formulas.pop(number, []) if cells.formulas else []
