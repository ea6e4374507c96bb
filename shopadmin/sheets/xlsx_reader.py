"""Reading an XLSX worksheet as a person sees it in their spreadsheet program, streamed.

The sheet's XML is unpacked in chunks of a megabyte and cut into rows and cells by regular
expressions that run in C (about seven times faster than an XML parser's callbacks in Python;
memory stays flat whatever the size). Shared strings are kept as one block of UTF-8 with their
offsets, not as a Python object each, and are read only as far as the rows need them.

Each cell comes out as the text the spreadsheet shows: a number formatted `00000` keeps its
leading zeros (`01067`), a date formatted as one is a date, `_x000D_` escapes are undone. A
formula without a stored result (a file written by a program that does not calculate) is named
in a note, for the import to warn about. No document type declaration is accepted, so no entity
can be declared, let alone expanded (defusedxml's rule); only XML's own five entities and
character references are read, any other is refused; the sheet's claimed dimension is ignored.
"""

import codecs
import re
import zipfile
from array import array
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import AnyStr

from defusedxml.ElementTree import fromstring
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

CHUNK = 1 << 20
# No row of a real sheet comes near this (16,384 cells of a few hundred characters); a part
# that never closes its row is refused instead of held.
MAX_ROW_CHARS = 64 << 20
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ZEROS = re.compile(r"0+")
_LETTERS = re.compile(r"[A-Z]+")
_PREFIX = re.compile(r"<([\w.-]+:)?(?:worksheet|sst)[\s>/]")
_DECLARED = re.compile(rb"^<\?xml[^>]*encoding=[\"']([\w.-]+)[\"']")
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|\w+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


class XlsxError(Exception):
    """The file is no XLSX workbook we read (or one that declares a document type)."""


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold as _xHHHH_ (a carriage return: _x000D_)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _entity(match: re.Match) -> str:
    name = match.group(1)
    if name[0] == "#":
        try:
            return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        except (ValueError, OverflowError):
            raise XlsxError(f"a character reference that is no character: &{name};") from None
    if name not in _NAMED:  # (declared entities are refused with the declaration)
        raise XlsxError(f"an undeclared entity: &{name};")
    return _NAMED[name]


def _text(raw: str) -> str:
    """The characters of an element's content: line ends as XML reads them (a carriage return
    only from a character reference), entities and CDATA sections read."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "<!" in raw:
        raw = _CDATA.sub(lambda m: m.group(1).replace("&", "&amp;"), _COMMENT.sub("", raw))
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


def _refuse_declarations(text: str) -> None:
    if "<!" in text and ("<!DOCTYPE" in text or "<!ENTITY" in text):
        raise XlsxError("document type declarations are not accepted")


def _chunks(source) -> Iterator[str]:
    """The part's text in pieces of about CHUNK, decoded as its declaration says."""
    head = source.read(CHUNK)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        declared = _DECLARED.match(head.lstrip(codecs.BOM_UTF8))
        encoding = declared.group(1).decode("ascii") if declared else "utf-8-sig"
        if encoding.lower().replace("-", "") == "utf8":
            encoding = "utf-8-sig"
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise XlsxError(f"an unknown encoding: {encoding}") from None
    chunk = head
    while chunk:
        yield decoder.decode(chunk)
        chunk = source.read(CHUNK)
    yield decoder.decode(b"", final=True)


def _elements(source, end_tag: str, limit: int = MAX_ROW_CHARS,
              refuse: bool = True) -> Iterator[str]:
    """The part's text cut after the last complete `end_tag` of each chunk (the rest waits
    for the next chunk). Refuses a declaration anywhere in it; refuse=False leaves that to
    the one who reads the pieces (each piece holds any declaration whole)."""

    def refused(texts: Iterator[str]) -> Iterator[str]:
        last = ""
        for text in texts:
            _refuse_declarations(text)
            _refuse_declarations(last + text[:16])  # (one that falls across two chunks)
            last = text[-16:]
            yield text

    texts = _chunks(source)
    return _cut(refused(texts) if refuse else texts, end_tag, limit)


def _cut(chunks: Iterator[AnyStr], end_tag: AnyStr, limit: int) -> Iterator[AnyStr]:
    """The chunks joined and cut again after the last complete `end_tag` of each (the rest
    waits for the next chunk); refused when a piece outgrows `limit`."""
    tail = None
    for chunk in chunks:
        data = tail + chunk if tail else chunk
        cut = data.rfind(end_tag)
        if cut < 0:
            tail = data
            if len(tail) > limit:
                raise XlsxError("an element longer than any worksheet holds")
            continue
        cut += len(end_tag)
        yield data[:cut]
        tail = data[cut:]
    if tail is not None and tail.strip():
        yield tail


def _utf8(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether the part is written in UTF-8 (as every program writes them)."""
    with archive.open(name) as source:
        head = source.read(CHUNK)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    declared = _DECLARED.match(head.lstrip(codecs.BOM_UTF8))
    return not declared or declared.group(1).decode("ascii").lower().replace("-", "") == "utf8"


def _raw_elements(source, end_tag: bytes, limit: int = MAX_ROW_CHARS) -> Iterator[bytes]:
    """_elements of a UTF-8 part, as bytes (refusing nothing: see _Sheet.rows): a piece need
    not be decoded to be read. Bytes that are no UTF-8 are refused all the same (a piece of
    ASCII alone, such as a sheet whose texts are shared strings, is checked without being
    decoded)."""

    def checked() -> Iterator[bytes]:
        checker = codecs.getincrementaldecoder("utf-8")()
        checking = False  # (a character begun in the chunk before)
        while chunk := source.read(CHUNK):
            if checking or not chunk.isascii():
                checker.decode(chunk)
                checking = bool(checker.getstate()[0])
            yield chunk
        checker.decode(b"", final=True)

    return _cut(checked(), end_tag, limit)


def _prefix(archive: zipfile.ZipFile, name: str) -> str:
    """The namespace prefix the part writes its elements with ("" or e.g. "x:")."""
    with archive.open(name) as source:
        head = next(_chunks(source), "")
    _refuse_declarations(head)
    found = _PREFIX.search(head)
    return (found.group(1) or "") if found else ""


def sheet_part(archive: zipfile.ZipFile) -> tuple[str, bool]:
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


class SharedStrings:
    """The workbook's shared strings, read from its part as far as a cell asks for them, and
    kept as UTF-8 in one block with their offsets (a tenth of the memory of a list of str)."""

    def __init__(self, archive: zipfile.ZipFile):
        self.block = bytearray()
        self.offsets = array("q", [0])
        self.source = None
        self.items: Iterator[None] = iter(())
        if "xl/sharedStrings.xml" not in archive.NameToInfo:
            return
        prefix = _prefix(archive, "xl/sharedStrings.xml")
        p = re.escape(prefix)
        self.item = re.compile(
            rf"<{p}si>(?:<{p}t(?:\s[^>]*)?>([^<]*)</{p}t>|(.*?))</{p}si>|<{p}si/>", re.S)
        # (a piece of items of one plain text each: their texts alone, no tuples)
        self.plain = re.compile(rf"<{p}si><{p}t(?:\s[^>]*)?>([^<]*)</{p}t></{p}si>|<{p}si/>")
        self.start = f"<{prefix}si"
        self.text = re.compile(rf"<{p}t(?:\s[^>]*)?>(.*?)</{p}t>", re.S)
        self.phonetic = re.compile(rf"<{p}rPh\b.*?</{p}rPh>", re.S)
        self.source = archive.open("xl/sharedStrings.xml")
        self.items = self._read(f"</{prefix}si>")

    def _read(self, end_tag: str) -> Iterator[None]:
        with self.source:
            for text in _elements(self.source, end_tag):
                block, offsets = self.block, self.offsets
                plains = self.plain.findall(text)
                if len(plains) == text.count(self.start) and not any(
                        mark in text for mark in ("&", "<!", "\r", "_x")):
                    # Plain text only (a big workbook's usual piece): put in at once.
                    encoded = list(map(str.encode, plains))
                    ends = accumulate(map(len, encoded), initial=len(block))
                    next(ends)
                    block += b"".join(encoded)
                    offsets.extend(ends)
                    yield
                    continue
                for plain, rich in self.item.findall(text):
                    if rich:
                        plain = "".join(self.text.findall(self.phonetic.sub("", rich)))
                    if "&" in plain or "<!" in plain or "\r" in plain:
                        plain = _text(plain)
                    block += _unescape(plain).encode()
                    offsets.append(len(block))
                yield

    def close(self) -> None:
        if self.source is not None:
            self.items.close()
            self.source.close()

    def __getitem__(self, index: int) -> str:
        offsets = self.offsets
        while index + 1 >= len(offsets):
            if next(self.items, StopIteration) is StopIteration:
                raise IndexError(f"shared string {index} is not in the workbook")
        return self.block[offsets[index]:offsets[index + 1]].decode()


def _column(ref: str) -> int:
    letters = _LETTERS.match(ref)
    index = 0
    for letter in letters.group(0) if letters else "A":
        index = index * 26 + ord(letter) - 64
    return index - 1


def _attribute(name: str, value: str) -> str:
    """A pattern that captures the attribute's value wherever it stands in the tag, if it
    is there at all."""
    return rf"""(?:(?=[^>]*?\s{name}\s*=\s*["']{value}))?"""


class _Sheet:
    """Cuts a sheet's rows into cells and gives each cell's text as the spreadsheet shows it."""

    def __init__(self, prefix: str, strings: SharedStrings, formats: list[str], epoch,
                 cell_text, raw: bool = False):
        """raw: the pieces come as UTF-8 bytes (see _raw_elements), read as they are."""
        self.strings, self.formats, self.epoch, self.cell_text = strings, formats, epoch, cell_text
        self.raw = raw
        self.decode = bytes.decode if raw else str
        self.numeric_formats: dict[int, tuple[str, int]] = {}
        self.columns: dict[str, int] = {}
        self.number = 0  # the last row's, for a row that does not say its own
        self.width = 0  # of the widest row so far: a new row's list starts this wide
        p = re.escape(prefix)
        self.end_tag = f"</{prefix}row>"
        end = re.escape(self.end_tag)
        number, letters, kind, style = (_attribute(name, value) for name, value in (
            ("r", r"(\d+)"), ("r", "([A-Z]+)"), ("t", r"(\w+)"), ("s", r"(\d+)")))
        self.row = re.compile(rf"<{p}row(?=[\s/>]){number}[^>]*?(?:/>|>(.*?){end})", re.S)
        self.cell = re.compile(
            rf"<{p}c(?=[\s/>]){letters}{kind}{style}[^>]*?(?:/>|>(.*?)</{p}c>)", re.S)
        self.value = re.compile(rf"<{p}v(?:\s[^>]*)?>(.*?)</{p}v>", re.S)
        self.inline = re.compile(rf"<{p}t(?:\s[^>]*)?>(.*?)</{p}t>", re.S)
        self.phonetic = re.compile(rf"<{p}rPh\b.*?</{p}rPh>", re.S)
        # The cells as Excel, LibreOffice, XlsxWriter and openpyxl write them, read in one pass
        # over a piece: a row's start, or a cell (its reference first, then any attributes)
        # with a plain value or inline string. Any other start of a row or cell, and any <!
        # (a comment, CDATA or a declaration), is caught by the last branch, which sends the
        # piece the careful way above. (ASCII: its digits and letters are those XML's numbers
        # and names are written in; 7% faster.)
        fast = (rf'<{p}row r="(\d+)"[^<>]*>|<{p}c r="([A-Z]+)\d+"([^<>/]*)(?:/>|>(?:<{p}v>'
                rf'([^<&\r]*)</{p}v>|<{p}is><{p}t>([^<&\r]*)</{p}t></{p}is>)</{p}c>)'
                rf'|<(!|{p}(?:row|c)[\s/>])')
        self.fast = re.compile(fast.encode() if raw else fast, re.ASCII)
        # A cell's attributes as written (` s="1" t="s"`) -> its type and style, worked out
        # once for each way of writing them.
        self.kinds: dict[str, str] = {}
        self.styles: dict[str, int] = {}
        self.kind_of = re.compile(_attribute("t", r"(\w+)") + _attribute("s", r"(\d+)"))
        self.formula = f"<{prefix}f"
        self.simple = (f"<{prefix}v>", f"</{prefix}v>")
        self.plain, self.plain_end = f"<{prefix}is><{prefix}t", f"</{prefix}t></{prefix}is>"

    def rows(self, text: str | bytes) -> Iterator[tuple[int, list[str], list[int]]]:
        """The rows of a piece of the sheet that ends with a complete row."""
        rows = self._plain_rows(self.fast.findall(text))
        if rows is not None:
            return iter(rows)
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        _refuse_declarations(text)
        return self._rows(text)

    def _attributes(self, attributes: str) -> str:
        """A cell's type (its `t`, "n" when it has none) from its attributes as written; its
        style is then in self.styles."""
        kind, style = self.kind_of.match(" " + self.decode(attributes)).groups()
        self.styles[attributes] = int(style) if style else 0
        kind = self.kinds[attributes] = kind or "n"
        return kind

    def _plain_rows(self, found: list[tuple]) -> list[tuple[int, list[str], list[int]]] | None:
        """The rows of a piece found by the one-pass pattern; None when the piece holds a row,
        a cell or a <! that the pattern does not read (the piece goes the careful way)."""
        # (The hot loop of a big import: a cell with a value, the most common, is tested
        # first, its type looked up by its attributes as written; a row's list is made as
        # wide as the widest row before it, so that most cells are put in place without a
        # test; the blanks after the last cell are cut off.)
        strings, columns, kinds, decode = self.strings, self.columns, self.kinds, self.decode
        block, offsets = strings.block, strings.offsets
        number, values, width = self.number, None, self.width
        rows: list[tuple[int, list[str], list[int]]] = []
        for row_number, letters, attributes, value, inline, other in found:
            if value:
                kind = kinds.get(attributes) or self._attributes(attributes)
                if kind == "s":
                    index = int(value)
                    try:
                        text = block[offsets[index]:offsets[index + 1]].decode()
                    except IndexError:  # not read that far yet
                        text = strings[index]
                elif kind == "n":
                    text = self._number(decode(value), self.styles[attributes])
                else:
                    start, end = self.simple
                    text = self._cell(kind, str(self.styles[attributes]),
                                      f"{start}{decode(value)}{end}")
            elif row_number:
                if values is not None:
                    while values and not values[-1]:
                        values.pop()
                    rows.append((number, values, []))
                number, values = int(row_number), [""] * width
                continue
            elif inline:
                if (kinds.get(attributes) or self._attributes(attributes)) != "inlineStr":
                    continue
                text = decode(inline)
                if "_x" in text:
                    text = _unescape(text)
            elif other:
                return None
            else:
                continue
            if not text:
                continue
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = _column(decode(letters))
            try:
                values[column] = text  # type: ignore[index]
            except IndexError:
                values.extend([""] * (column + 1 - len(values)))
                values[column] = text  # type: ignore[index]
                width = self.width = column + 1
        if values is not None:
            while values and not values[-1]:
                values.pop()
            rows.append((number, values, []))
        self.number = number
        return rows

    def _rows(self, text: str) -> Iterator[tuple[int, list[str], list[int]]]:
        number = self.number
        columns, cell = self.columns, self.cell
        for row_number, body in self.row.findall(text):
            number = int(row_number) if row_number else number + 1
            values: list[str] = []
            formulas: list[int] = []
            column = -1
            for letters, kind, style, inner in cell.findall(body) if body else ():
                if letters:
                    column = columns.get(letters)
                    if column is None:
                        column = columns[letters] = _column(letters)
                else:
                    column += 1
                if not inner:
                    continue
                text_value = self._cell(kind, style, inner)
                if text_value is None:
                    formulas.append(column)
                elif text_value:
                    if len(values) < column:
                        values.extend([""] * (column - len(values)))
                        values.append(text_value)
                    elif len(values) == column:
                        values.append(text_value)
                    else:
                        values[column] = text_value
            yield number, values, formulas
        self.number = number

    def _cell(self, kind: str, style: str, inner: str) -> str | None:
        """The cell's text; None for a formula without a stored result."""
        start, end = self.simple
        if inner.startswith(start) and inner.endswith(end) and inner.count("<") == 2:
            value = inner[len(start):-len(end)]
        elif kind == "inlineStr" and inner.startswith(self.plain) and inner.endswith(
                self.plain_end) and inner.count("<") == 4:
            value = inner[inner.index(">", len(self.plain)) + 1:-len(self.plain_end)]
        elif kind == "inlineStr":
            value = "".join(self.inline.findall(self.phonetic.sub("", inner)))
        else:
            found = self.value.search(inner)
            value = found.group(1) if found else ""
            if not value and self.formula in inner:
                return None
        if not value:
            return ""
        if "&" in value or "<!" in value or "\r" in value:
            value = _text(value)
        if kind == "s":
            return self.strings[int(value)]
        if kind in ("inlineStr", "str"):
            return _unescape(value)
        if kind == "b":
            return "1" if value.strip() == "1" else "0"
        if kind in ("e", "d"):
            return value
        return self._number(value, int(style) if style else 0)

    def _number(self, value: str, style: int) -> str:
        if style not in self.numeric_formats:
            code = self.formats[style] if style < len(self.formats) else "General"
            if _ZEROS.fullmatch(code):
                self.numeric_formats[style] = ("zeros", len(code))
            elif is_date_format(code):
                self.numeric_formats[style] = ("date", 0)
            else:
                self.numeric_formats[style] = ("number", 0)
        how, width = self.numeric_formats[style]
        if how == "number" and value.isdigit() and value.isascii() and value[0] != "0":
            return value  # (a whole number in General: its text is its value's)
        value = value.strip()
        number = float(value) if "." in value or "e" in value or "E" in value else int(value)
        if how == "zeros" and float(number).is_integer():
            return str(int(number)).zfill(width)
        if how == "date":
            try:
                return self.cell_text(from_excel(number, self.epoch))
            except (ValueError, OverflowError):
                pass
        return self.cell_text(number)


def xlsx_rows(path: Path, cell_text) -> Iterator[tuple[int, list[str], list[int]]]:
    """(row number, cell texts, columns holding a formula without a result) of the first
    sheet, streamed. Raises XlsxError, zipfile, KeyError, ValueError or IndexError for a
    broken file."""
    with zipfile.ZipFile(path) as archive:
        name, date1904 = sheet_part(archive)
        epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        strings = SharedStrings(archive)
        try:
            prefix, raw = _prefix(archive, name), _utf8(archive, name)
            sheet = _Sheet(prefix, strings, _formats(archive), epoch, cell_text, raw)
            end = f"</{prefix}worksheet>"
            with archive.open(name) as source:
                # (a declaration is refused by sheet.rows, whose one pass finds any <!)
                pieces: Iterator[str | bytes] = _raw_elements(source, sheet.end_tag.encode()) \
                    if raw else _elements(source, sheet.end_tag, refuse=False)
                text: str | bytes = ""
                for text in pieces:
                    yield from sheet.rows(text)
            if not (text.rstrip().endswith(end.encode()) if isinstance(text, bytes)
                    else text.rstrip().endswith(end)):
                raise XlsxError("the sheet ends before its last row")
        finally:
            strings.close()
