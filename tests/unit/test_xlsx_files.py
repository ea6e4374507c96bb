"""XLSX in and out: our streaming writer's files open in openpyxl and calamine (the reader
LibreOffice-compatible tools use) with every text as written and no formula; our reader reads
what Excel, LibreOffice, XlsxWriter and openpyxl write as the spreadsheet shows it, whichever
way the XML is laid out, and refuses hostile files."""

import os
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from shopadmin.sheets import xlsx_reader as xlsx
from shopadmin.sheets.cells import unneutralise
from shopadmin.sheets.readers import WorksheetError, cell_text, open_worksheet
from shopadmin.sheets.writers import write_worksheet
from shopadmin.sheets.xlsx_writer import write_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TRICKY = ["=HYPERLINK(\"http://x\")", "+48 601 234 567", "-5", "@SUM(A1)", "'quoted",
          "line one\r\nline two", "tab\there", "  spaced  ", "a & b < c > d", "_x000D_ literal",
          "control \x01 and \x1f", "Łódź ß é œ", "00950", "1980-05-17", "12.50"]


def read(path) -> list[tuple[int, list[str]]]:
    return list(open_worksheet(path).rows())


def book(tmp_path, sheet: str, strings: str | None = None, styles: str | None = None,
         workbook_properties: str = "", name: str = "hand.xlsx"):
    """A workbook made by hand, to lay its XML out as other programs do."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships">{workbook_properties}<sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            archive.writestr("xl/sharedStrings.xml", strings)
        if styles is not None:
            archive.writestr("xl/styles.xml", styles)
    return path


def test_an_export_opens_in_openpyxl_and_calamine_as_text_without_formulas(app, tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [TRICKY, ["plain", "", None, "last"]]
    assert write_worksheet(path, "xlsx", [f"H{n}" for n in range(len(TRICKY))], rows) == 2
    sheet = openpyxl.load_workbook(path).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert {cell.data_type for cell in cells} == {"s"}  # no formula, number or date
    assert {cell.number_format for cell in cells} == {"@"}
    openpyxl_rows = [[cell.value for cell in row] for row in sheet.iter_rows(values_only=False)]
    assert openpyxl_rows[2][:4] == ["plain", None, None, "last"]
    assert openpyxl_rows[1][0] == "'=HYPERLINK(\"http://x\")"  # neutralised, as text
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert calamine[1][:5] == ["'=HYPERLINK(\"http://x\")", "'+48 601 234 567", "'-5",
                               "'@SUM(A1)", "''quoted"]
    assert calamine[1][8] == "a & b < c > d" and calamine[1][11] == "Łódź ß é œ"


def test_every_text_comes_back_exactly_through_our_reader(app, tmp_path):
    path = tmp_path / "round.xlsx"
    write_worksheet(path, "xlsx", ["A", "B"], [[text, f"{n}"] for n, text in enumerate(TRICKY)])
    back = [[unneutralise(cell) for cell in cells] for _number, cells in read(path)]
    assert back == [[text, f"{n}"] for n, text in enumerate(TRICKY)]


def test_the_writer_streams_a_sheet_bigger_than_its_buffers(app, tmp_path):
    path = tmp_path / "many.xlsx"
    rows = ([f"K{n:06d}", "Jürgen" if n % 2 else "", f"k{n}@laden.test"] for n in range(3000))
    assert write_xlsx(path, ["Nummer", "Vorname", "E-Mail"], rows, "Kunden") == 3000
    worksheet = open_worksheet(path)
    assert worksheet.headings == ["Nummer", "Vorname", "E-Mail"]
    rows_back = list(worksheet.rows())
    assert len(rows_back) == 3000 and worksheet.count_rows() == 3000
    assert rows_back[0] == (2, ["K000000", "", "k0@laden.test"])
    assert rows_back[-1] == (3001, ["K002999", "Jürgen", "k2999@laden.test"])


def test_dates_numbers_and_booleans_as_the_spreadsheet_shows_them(app, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Born", "Seen", "Postcode", "Amount", "Big", "Member", "Phone"])
    sheet.append([date(1980, 5, 17), datetime(2024, 3, 1, 14, 30), 1067, 12.5, 31612345678,
                  True, 301234567])
    sheet["C2"].number_format = "00000"
    sheet["G2"].number_format = "0000000000"
    path = tmp_path / "values.xlsx"
    workbook.save(path)
    assert read(path) == [(2, ["1980-05-17", "2024-03-01 14:30:00", "01067", "12.5",
                               "31612345678", "1", "0301234567"])]


def test_dates_of_a_workbook_that_counts_from_1904(app, tmp_path):
    styles = (f'<styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/>'
              '<xf numFmtId="14"/></cellXfs></styleSheet>')
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
             '<t>Born</t></is></c><c r="B1" t="inlineStr"><is><t>Name</t></is></c></row>'
             '<row r="2"><c r="A2" s="1"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Ann</t>'
             '</is></c></row></sheetData></worksheet>')
    path = book(tmp_path, sheet, styles=styles, workbook_properties='<workbookPr date1904="1"/>')
    assert read(path) == [(2, ["1904-01-02", "Ann"])]  # day 1: 1900-01-01 elsewhere


SHARED = (f'<sst xmlns="{MAIN}" count="4" uniqueCount="4"><si><t>Vorname</t></si>'
          '<si><t xml:space="preserve"> Käthe </t></si>'
          '<si><r><rPr><b/></rPr><t>Mül</t></r><r><t>ler</t></r>'
          '<rPh sb="0" eb="1"><t>ミュ</t></rPh></si>'
          '<si><t>A &amp; B_x000D_</t></si><si/></sst>')


def test_shared_strings_rich_text_phonetic_runs_and_escapes(app, tmp_path):
    sheet = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C2"/><sheetData>'
             '<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr">'
             '<is><t>Nachname</t></is></c><c r="C1" t="inlineStr"><is><t>Firma</t></is></c>'
             '</row><row r="2" spans="1:3"><c r="A2" s="0" t="s"><v>1</v></c>'
             '<c r="B2" t="s"><v>2</v></c><c r="C2" t="s"><v>3</v></c></row>'
             '</sheetData></worksheet>')
    path = book(tmp_path, sheet, strings=SHARED)
    worksheet = open_worksheet(path)
    assert worksheet.headings == ["Vorname", "Nachname", "Firma"]
    assert list(worksheet.rows()) == [(2, [" Käthe ", "Müller", "A & B\r"])]


@pytest.mark.parametrize("layout", ["excel", "prefixed", "reordered", "no references"])
def test_a_sheet_with_gaps_in_any_layout(app, tmp_path, layout):
    """Missing cells and rows, an empty cell element, an inline rich string; the same rows
    whether the XML takes the quick way or the careful one."""
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>City</t></is></c>'
             '<c r="C1" t="inlineStr"><is><t>Note</t></is></c>'
             '<c r="D1" t="inlineStr"><is><t>Count</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>Ann</t></is></c>'
             '<c r="D2"><v>3</v></c></row>'
             '<row r="4"><c r="B4" t="inlineStr"><is><r><t>Łó</t></r><r><t>dź</t></r></is></c>'
             '<c r="C4" s="0"/><c r="D4" t="inlineStr"><is><t>x</t></is></c></row>'
             '<row r="5"/></sheetData></worksheet>')
    if layout == "prefixed":  # as the .NET Open XML SDK writes
        sheet = sheet.replace("<", "<x:").replace("<x:/", "</x:").replace(
            f'<x:worksheet xmlns="{MAIN}"', f'<x:worksheet xmlns:x="{MAIN}"')
    elif layout == "reordered":
        sheet = sheet.replace('<c r="D2">', '<c s="0" r="D2">').replace(
            '<c r="A2" t="inlineStr">', '<c t="inlineStr" r="A2">')
    elif layout == "no references":  # allowed: each cell then follows the one before
        sheet = sheet.replace(' r="A1"', "").replace(' r="B1"', "").replace(
            ' r="C1"', "").replace(' r="D1"', "").replace('<row r="1">', "<row>")
    rows = read(book(tmp_path, sheet))
    assert rows == [(2, ["Ann", "", "", "3"]), (4, ["", "Łódź", "", "x"])]


def test_a_formula_without_a_result_is_noted_and_one_with_a_result_is_read(app, tmp_path):
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>A</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>B</t></is></c></row>'
             '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c><c r="B2" t="str"><f>A2&amp;"x"</f>'
             '</c></row></sheetData></worksheet>')
    worksheet = open_worksheet(book(tmp_path, sheet))
    assert list(worksheet.rows()) == [(2, ["2"])]
    assert [column for column, _message in worksheet.notes[2]] == [1]


def test_rows_read_the_same_across_any_chunk_border(app, tmp_path, monkeypatch):
    path = tmp_path / "chunks.xlsx"
    rows = [[f"{n} {text}", "Łódź" * (n % 5)] for n, text in enumerate(TRICKY * 20)]
    write_worksheet(path, "xlsx", ["A", "B"], rows)
    whole = read(path)
    monkeypatch.setattr(xlsx, "CHUNK", 97)
    assert read(path) == whole and len(whole) == len(rows)


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


@pytest.mark.parametrize("where", ["sheet", "shared strings", "sheet, late"])
def test_entity_expansion_is_refused(app, tmp_path, where, monkeypatch):
    row = '<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}" t="inlineStr"><is><t>x</t>' \
          '</is></c></row>'
    rows = "".join(row.format(n=n) for n in range(1, 40))
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
    strings = f'<sst xmlns="{MAIN}"><si><t>Name</t></si></sst>'
    if where == "sheet":
        sheet = BOMB + sheet.replace('<t>x</t>', '<t>&lol3;</t>')
    elif where == "shared strings":
        strings = BOMB + strings.replace("Name", "&lol3;")
    else:  # a declaration further in, read in small chunks (no XML parser would take it)
        monkeypatch.setattr(xlsx, "CHUNK", 64)
        sheet = sheet.replace("</sheetData>", f"{BOMB[21:]}</sheetData>")
    path = book(tmp_path, sheet, strings=strings)
    with pytest.raises(WorksheetError) as error:
        list(open_worksheet(path).rows())
    assert "cannot be read" in error.value.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "iso-8859-2"])
def test_a_sheet_reads_the_same_in_any_declared_encoding(app, tmp_path, monkeypatch,
                                                         encoding):
    """A UTF-8 sheet is read as bytes, others as text; characters cut by any chunk border."""
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Łódź {n}</t></is></c>'
                   f'<c r="B{n}"><v>{n}</v></c></row>' for n in range(1, 60))
    sheet = (f'<?xml version="1.0" encoding="{encoding}"?><worksheet xmlns="{MAIN}">'
             f"<sheetData>{rows}</sheetData></worksheet>")
    path = book(tmp_path, sheet.encode(encoding))
    for chunk in (xlsx.CHUNK, 101, 64):
        monkeypatch.setattr(xlsx, "CHUNK", chunk)
        assert read(path) == [(n, [f"Łódź {n}", str(n)]) for n in range(1, 60)]


@pytest.mark.parametrize("where", ["plain row", "last byte"])
def test_a_utf8_sheet_with_bytes_that_are_no_utf8_is_refused(app, tmp_path, monkeypatch,
                                                             where):
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(1, 40))
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()
    if where == "plain row":  # in a row's attributes, which the one pass does not decode
        sheet = sheet.replace(b'<row r="30">', b'<row r="30" x="\xc5">')
    else:  # a character begun and never ended
        sheet += b"\xc5"
    path = book(tmp_path, sheet, strings=f'<sst xmlns="{MAIN}"><si><t>Name</t></si></sst>')
    monkeypatch.setattr(xlsx, "CHUNK", 64)
    with pytest.raises(WorksheetError) as error:
        list(open_worksheet(path).rows())
    assert "cannot be read" in error.value.message


def test_an_undeclared_entity_is_refused(app, tmp_path):
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
             '<t>A</t></is></c><c r="B1" t="inlineStr"><is><t>B &xxe;</t></is></c></row>'
             '</sheetData></worksheet>')
    with pytest.raises(WorksheetError):
        open_worksheet(book(tmp_path, sheet))


def test_shared_strings_are_read_only_as_far_as_the_rows_need(app, tmp_path):
    strings = "".join(f"<si><t>text {n}</t></si>" for n in range(50_000))
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
             '<c r="B1" t="s"><v>1</v></c></row></sheetData></worksheet>')
    path = book(tmp_path, sheet, strings=f'<sst xmlns="{MAIN}">{strings}</sst>')
    with zipfile.ZipFile(path) as archive:
        shared = xlsx.SharedStrings(archive)
        assert shared[1] == "text 1"
        assert len(shared.offsets) - 1 < 50_000  # the first chunk, not the whole part
        assert shared[49_999] == "text 49999"
        with pytest.raises(IndexError):
            shared[50_000]
        shared.close()
    assert list(xlsx.xlsx_rows(path, cell_text)) == [(1, ["text 0", "text 1"], [])]


@pytest.mark.parametrize("damage", ["workbook", "sheet", "deflate"])
def test_a_damaged_workbook_is_refused_with_a_message(app, tmp_path, damage):
    path = tmp_path / "damaged.xlsx"
    write_worksheet(path, "xlsx", ["A", "B"], [["x", "y"]] * 50)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if damage == "workbook":
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"][:-20]
    elif damage == "sheet":
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:-40]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    if damage == "deflate":  # bytes of the compressed sheet overwritten
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/worksheets/sheet1.xml")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
        data[start:start + 40] = b"\xff" * 40
        path.write_bytes(bytes(data))
    with pytest.raises(WorksheetError) as error:
        list(open_worksheet(path).rows())
    assert "cannot be read" in error.value.message or "damaged" in error.value.message


def test_an_uploads_first_complete_read_is_kept_for_the_next(app, tmp_path):
    from shopadmin.sheets.spool import remove_spool, spool_path

    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>Sum</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>Ann, "Annie"</t></is></c></row>'
             '<row r="4"><c r="A4" t="inlineStr"><is><t>Bo\nEk</t></is></c>'
             '<c r="B4"><f>1+1</f></c></row></sheetData></worksheet>')
    folder = tmp_path / "imports"
    folder.mkdir()
    path = book(folder, sheet, name="f.upload")
    worksheet = open_worksheet(path, spool=True)
    first = list(worksheet.rows())
    assert first == [(2, ['Ann, "Annie"']), (4, ["Bo\nEk"])] and list(worksheet.notes) == [4]
    assert spool_path(path).exists()
    assert sorted(folder.iterdir()) == sorted([path, spool_path(path)])  # no part left
    again = open_worksheet(path, spool=True)
    assert list(again.rows()) == first and again.notes.keys() == worksheet.notes.keys()
    # What is read the second time is the spool: a change there shows.
    text = spool_path(path).read_text(encoding="utf-8")
    spool_path(path).write_text(text.replace("Annie", "Anna"), encoding="utf-8")
    assert list(open_worksheet(path, spool=True).rows())[0] == (2, ['Ann, "Anna"'])
    # ... and only for the upload it was made from.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert list(open_worksheet(path, spool=True).rows()) == first
    assert list(open_worksheet(path).rows()) == first
    remove_spool(path)
    assert list(folder.iterdir()) == [path]
