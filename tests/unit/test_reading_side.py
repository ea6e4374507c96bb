"""The import's reading side where it takes a quicker way for the usual case: shared strings of a
plain piece put in at once, rows laid out as wide as the widest before them, whole numbers
passed as written, and the row parser's checks made once for a row. Each must read exactly
what the careful way reads."""

import zipfile

import openpyxl

from shopadmin.imports.rows import ParseOptions, RowParser
from shopadmin.sheets import xlsx_reader as xlsx
from shopadmin.sheets.readers import _xlsx_row_count, open_worksheet

NAMES = ["Łucja Wąsowska", "Käthe Weiß", "Jérôme Dupré", "Ørsted", "plain ascii", "日本語",
         "😀 emoji", ""]


def _workbook(path, rows):
    """As openpyxl saves it: every text a shared string; numbers as numbers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_plain_shared_strings_in_many_pieces_read_as_written(app, tmp_path, monkeypatch):
    rows = [["Name", "Note", "Count"]]
    rows += [[f"{NAMES[n % len(NAMES)]} {n}", NAMES[(n * 3) % len(NAMES)] or None, n]
             for n in range(300)]
    path = _workbook(tmp_path / "strings.xlsx", rows)
    expected = [(number, [cell for cell in (f"{a}", b or "", str(c))])
                for number, (a, b, c) in enumerate(rows[1:], start=2)]
    for chunk in (xlsx.CHUNK, 101, 4096):  # one piece; many, cut anywhere
        monkeypatch.setattr(xlsx, "CHUNK", chunk)
        assert list(open_worksheet(path).rows()) == expected


def test_a_narrower_row_after_a_wide_one_ends_at_its_last_cell(app, tmp_path):
    path = _workbook(tmp_path / "widths.xlsx", [
        ["A", "B", "C", "D", "E"], ["a", "b", "c", "d", "e"], ["only"], [None, "second"],
        ["x", None, None, None, "far"], [1067, -5, 0, 1.5, 30000000000]])
    assert list(open_worksheet(path).rows()) == [
        (2, ["a", "b", "c", "d", "e"]), (3, ["only"]), (4, ["", "second"]),
        (5, ["x", "", "", "", "far"]), (6, ["1067", "-5", "0", "1.5", "30000000000"])]


def test_a_number_formatted_with_leading_zeros_keeps_them(app, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Postcode", "Count"])
    sheet.append([1067, 1067])
    sheet["A2"].number_format = "00000"
    path = tmp_path / "zeros.xlsx"
    workbook.save(path)
    assert list(open_worksheet(path).rows()) == [(2, ["01067", "1067"])]


def _parser():
    headings = ["First name", "Last name", "E-mail", "Phone", "Notes"]
    return RowParser(headings, ["first_name", "last_name", "email", "phone", "notes"],
                     ParseOptions())


def test_a_row_with_an_apostrophe_or_a_control_character_is_read_cell_by_cell():
    parsed = _parser().parse(2, ["Anna", "O'Brien", " anna@x.pl ", "'+48 601 234 567",
                                 "before\x00after"])
    assert parsed.values == {"first_name": "Anna", "last_name": "O'Brien",
                             "email": "anna@x.pl", "phone": "+48 601 234 567",
                             "notes": "beforeafter"}
    assert [(w.column, w.value) for w in parsed.warnings] == [("Notes", "before\x00after")]
    assert parsed.errors == []


def test_a_cell_of_control_characters_alone_sets_nothing_and_is_named():
    parsed = _parser().parse(3, ["Ben", "\u202e", "ben@x.pl"])
    assert parsed.values == {"first_name": "Ben", "email": "ben@x.pl"}
    assert [(w.column, w.value) for w in parsed.warnings] == [("Last name", "\u202e")]


def test_a_short_row_and_a_plain_row_take_the_quick_way_to_the_same_values():
    parser = _parser()
    assert parser.parse(4, ["Cleo"]).values == {"first_name": "Cleo"}
    plain = parser.parse(5, ["  Dora ", "Lis", "dora@x.pl", "601", "two\nlines"])
    assert plain.values == {"first_name": "Dora", "last_name": "Lis", "email": "dora@x.pl",
                            "phone": "601", "notes": "two\nlines"}
    assert plain.warnings == [] and plain.errors == []


def test_rows_are_counted_by_the_sheets_own_prefix_across_pieces(app, tmp_path):
    """Written plain, or with a prefix and a line break in a tag, over several megabytes;
    <rowBreaks> is no row."""
    path = _workbook(tmp_path / "count.xlsx", [["Name"]] + [[f"n{n}"] for n in range(2500)])
    assert open_worksheet(path).count_rows() == 2500
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = "".join(f'<x:row r="{n}"><x:c r="A{n}" t="inlineStr"><x:is><x:t>v{n}</x:t></x:is>'
                   "</x:c></x:row>" for n in range(1, 40_001))
    sheet = (f'<x:worksheet xmlns:x="{main}"><x:sheetData>{rows}<x:row\nr="40001"/>'
             "</x:sheetData><x:rowBreaks count=\"0\"/></x:worksheet>")
    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(prefixed, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            target.writestr(item, data)
    assert _xlsx_row_count(prefixed) == 40_001


def test_a_sheet_with_column_widths_above_its_rows_takes_the_quick_way(app, tmp_path,
                                                                      monkeypatch):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.column_dimensions["A"].width = 30
    sheet.append(["Name", "City"])
    sheet.append(["Anna", "Łódź"])
    path = tmp_path / "widths.xlsx"
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        assert b"<cols>" in archive.read("xl/worksheets/sheet1.xml")
    careful = []
    monkeypatch.setattr(xlsx._Sheet, "_rows", lambda self, text: careful.append(text) or [])
    assert list(open_worksheet(path).rows()) == [(2, ["Anna", "Łódź"])] and careful == []


def _with_sheet(path, target, change):
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()
            copy.writestr(item, data)
    return target


def test_cells_with_their_attributes_in_any_order_take_the_quick_way(app, tmp_path,
                                                                      monkeypatch):
    """Type before style, attributes Excel adds (cell metadata): read as written, without
    the careful way; a comment among the rows sends its piece the careful way, to the same
    rows."""
    path = _workbook(tmp_path / "plain.xlsx", [["Name", "Count", "Ok"], ["Anna", 7, True],
                                               ["Łódź", 1.5, False]])
    expected = [(2, ["Anna", "7", "1"]), (3, ["Łódź", "1.5", "0"])]

    def reordered(xml):  # (openpyxl writes inline strings, and numbers with t="n")
        return xml.replace('t="inlineStr"', 't="inlineStr" cm="1"').replace(
            '<c r="B2" t="n">', '<c r="B2" s="0" t="n">').replace('t="b">', 't="b" s="0">')

    careful = []
    original = xlsx._Sheet._rows
    monkeypatch.setattr(xlsx._Sheet, "_rows",
                        lambda self, text: careful.append(text) or original(self, text))
    quick = _with_sheet(path, tmp_path / "quick.xlsx", reordered)
    assert list(open_worksheet(quick).rows()) == expected and careful == []
    odd = _with_sheet(path, tmp_path / "odd.xlsx", lambda xml: reordered(xml).replace(
        '<c r="A3" t="inlineStr" cm="1">', '<c t="inlineStr" r="A3">'))
    assert list(open_worksheet(odd).rows()) == expected and careful
    careful.clear()
    commented = _with_sheet(path, tmp_path / "commented.xlsx",
                            lambda xml: xml.replace('<row r="3"', '<!-- 3 --><row r="3"'))
    assert list(open_worksheet(commented).rows()) == expected and careful
