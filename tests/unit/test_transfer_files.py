"""Reading and writing worksheets: encodings, delimiters, XLSX/ODS, hostile files, round trip;
heading mapping of other platforms' exports; values as people write them."""

import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from shopadmin.customers.choices import CustomerType, Gender
from shopadmin.domain import DomainError
from shopadmin.imports.headings import looks_like_headings, suggest_mapping
from shopadmin.imports.rows import ParseOptions, RowParser, combine_rows
from shopadmin.imports.values import (
    parse_bool,
    parse_country,
    parse_date,
    parse_gender,
    parse_language,
)
from shopadmin.sheets.readers import WorksheetError, open_worksheet
from shopadmin.sheets.writers import FORMATS, write_worksheet

POLISH = [["Imię", "Nazwisko", "E-mail", "Miasto"],
          ["Małgorzata", "Żółkiewska", "m@sklep.pl", "Łódź"],
          ["Jędrzej", "Dąbrowski", "j@sklep.pl", "Kraków"]]


def write_text(tmp_path, rows, encoding, delimiter, bom=b""):
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    path = tmp_path / "file.csv"
    path.write_bytes(bom + text.encode(encoding))
    return path


@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("cp1250", b""),
    ("iso8859_2", b""),
])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_encoding_and_delimiter(tmp_path, encoding, bom, delimiter):
    sheet = open_worksheet(write_text(tmp_path, POLISH, encoding, delimiter, bom))
    assert sheet.headings == POLISH[0]
    assert [cells for _n, cells in sheet.rows()] == POLISH[1:]


def test_windows_1252_german_and_french(tmp_path):
    rows = [["Vorname", "Nachname", "Ort"], ["Jürgen", "Groß", "Köln"],
            ["Zoé", "Lefèvre", "Besançon"]]
    sheet = open_worksheet(write_text(tmp_path, rows, "cp1252", ";"))
    assert sheet.encoding == "cp1252"
    assert [cells for _n, cells in sheet.rows()] == rows[1:]


def test_title_rows_quoted_line_breaks_and_row_numbers(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('Customers of Shop X\n\nFirst name,Last name,Notes,,\n'
                    'Anna,Nowak,"two\nlines",,\n\nJan,Kowalski,x,,\n', encoding="utf-8")
    sheet = open_worksheet(path)
    assert sheet.headings[:3] == ["First name", "Last name", "Notes"]
    assert list(sheet.rows()) == [(4, ["Anna", "Nowak", "two\nlines"]),
                                  (6, ["Jan", "Kowalski", "x"])]


def test_a_file_without_headings_is_recognised(tmp_path):
    path = write_text(tmp_path, [["Anna", "Nowak", "anna@x.pl"], ["Jan", "Kos", "jan@x.pl"]],
                      "utf-8", ",")
    sheet = open_worksheet(path)
    assert sheet.headings is None
    assert len(list(sheet.rows())) == 2


def test_unmatched_quote_names_the_row(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('First name,Last name\nAnna,Nowak\n"Jan,Kowalski\nEwa,Lis\n', encoding="utf-8")
    with pytest.raises(WorksheetError) as error:
        list(open_worksheet(path).rows())
    assert "Row 3" in error.value.message


def test_huge_cell_is_refused_with_its_row(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b\nx," + "y" * 2_000_000 + "\n", encoding="utf-8")
    with pytest.raises(WorksheetError) as error:
        list(open_worksheet(path).rows())
    assert "Row 2" in error.value.message


@pytest.mark.parametrize("content", [b"%PDF-1.4 ...", b"\x89PNG\r\n\x1a\n" + bytes(200),
                                     bytes(range(256)) * 20, b"PK\x03\x04broken zip"])
def test_what_is_not_a_worksheet_is_refused(tmp_path, content):
    path = tmp_path / "f.bin"
    path.write_bytes(content)
    with pytest.raises(WorksheetError):
        open_worksheet(path)


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 60_000_000)
    with pytest.raises(WorksheetError) as error:
        open_worksheet(path)
    assert "zip bomb" in error.value.message


def test_xlsx_numbers_dates_and_declared_size(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Phone", "Postcode", "Birth date", "Amount"])
    sheet.append([31612345678, "01067", date(1980, 5, 17), 12.5])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:  # claim a million rows
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b'<dimension ref="A1:D2"/>', b'<dimension ref="A1:D1000000"/>')
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    rows = list(open_worksheet(path).rows())
    assert rows == [(2, ["31612345678", "01067", "1980-05-17", "12.5"])]
    assert open_worksheet(path).count_rows() == 1  # the rows there are, not the claimed


def test_xlsx_rows_are_counted_in_the_sheet_xml(tmp_path):
    """A title row above the headings, and a sheet of several megabytes (read in chunks of
    one, so that row tags fall across the chunks' borders)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Kunden"
    sheet.append(["Kundenliste März"])
    sheet.append(["Vorname", "Nachname", "E-Mail", "Notiz"])
    for n in range(30_000):
        sheet.append(["Jürgen", f"Müller {n}", f"j{n}@example.de", "x" * (n % 97)])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    worksheet = open_worksheet(path)
    assert worksheet.headings == ["Vorname", "Nachname", "E-Mail", "Notiz"]
    assert worksheet.count_rows() == sum(1 for _ in worksheet.rows()) == 30_000


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_written_worksheets_read_back_exactly(tmp_path, fmt):
    rows = [["=SUM(A1)", "+48 601 234 567", "00950", "line\nbreak", "Łódź ß é"],
            ["'quoted", "-5", "@x", "", "plain"]]
    path = tmp_path / f"f.{fmt}"
    write_worksheet(path, fmt, ["A", "B", "C", "D", "E"], rows)
    from shopadmin.sheets.cells import unneutralise

    back = [[unneutralise(c) for c in cells] for _n, cells in open_worksheet(path).rows()]
    assert back == [rows[0], rows[1][:3] + ["", "plain"]]


PLATFORMS = {
    "lightspeed": ("Internal ID,Registered,Language,Firstname,LastnamePreposition,Lastname,"
                   "E-Mail,Phone,Mobile,Customer type,Company,Coc number,Vat number,Attn,"
                   "Streetname,Address 2,Number,Extension,Zipcode,City,Region,Country,"
                   "Shipping City,Shipping Country",
                   ["customer_number", None, "language", "first_name", "last_name_prefix",
                    "last_name", "email", "phone", "mobile", "customer_type", "company_name",
                    "coc_number", "vat_number", "billing_attention", "billing_address1",
                    "billing_address2", "billing_house_number", "billing_house_number_ext",
                    "billing_postcode", "billing_city", "billing_region", "billing_country",
                    "shipping_city", "shipping_country"]),
    "shopify": ("First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
                "Default Address Address1,Default Address City,Default Address Country Code,"
                "Default Address Zip,Phone,Tags,Note,Tax Exempt",
                ["first_name", "last_name", "email", "newsletter", "company_name",
                 "billing_address1", "billing_city", "billing_country", "billing_postcode",
                 "phone", "groups", "notes", None]),
    "magento": ("email,_website,firstname,gender,lastname,password_hash,dob,taxvat,"
                "_address_city,_address_country_id,_address_postcode,_address_street",
                ["email", None, "first_name", "gender", "last_name", None, "birth_date",
                 "vat_number", "billing_city", "billing_country", "billing_postcode",
                 "billing_address1"]),
    "prestashop": ("Customer ID;Active (0/1);Titles ID (Mr = 1, Ms = 2, else 0);Email *;"
                   "Password *;Birthday (yyyy-mm-dd);Last Name *;First Name *;"
                   "Newsletter (0/1);Groups (x,y,z...)",
                   ["customer_number", None, "title_code", "email", None, "birth_date",
                    "last_name", "first_name", "newsletter", "groups"]),
    "woocommerce": ("customer_id,first_name,last_name,user_login,email,user_pass,"
                    "billing_company,billing_phone,billing_address_1,billing_postcode,"
                    "billing_city,billing_country,shipping_city",
                    ["customer_number", "first_name", "last_name", "username", "email", None,
                     "company_name", "phone", "billing_address1", "billing_postcode",
                     "billing_city", "billing_country", "shipping_city"]),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_headings_map(platform):
    headings, expected = PLATFORMS[platform]
    separator = ";" if platform == "prestashop" else ","
    assert suggest_mapping(headings.split(separator)) == expected


def test_translated_headings_map():
    assert suggest_mapping(["Vorname", "Nachname", "E-Mail", "PLZ", "Ort"]) == [
        "first_name", "last_name", "email", "billing_postcode", "billing_city"]
    assert suggest_mapping(["Prénom", "Nom", "Adresse e-mail", "Code postal", "Ville"]) == [
        "first_name", "last_name", "email", "billing_postcode", "billing_city"]
    assert suggest_mapping(["Imię", "Nazwisko", "E-mail", "Kod pocztowy", "Miasto"]) == [
        "first_name", "last_name", "email", "billing_postcode", "billing_city"]
    assert looks_like_headings(["Imię", "Nazwisko"])
    assert not looks_like_headings(["Anna", "anna@x.pl", "0601234567"])


def test_values_as_people_write_them():
    assert [parse_bool(v) for v in ("Ja", "oui", "TAK", "x", "1", "TRUE")] == [True] * 6
    assert [parse_bool(v) for v in ("nein", "Non", "nie", "0", "FALSE")] == [False] * 5
    assert parse_date("17.05.1980") == parse_date("1980-05-17") == date(1980, 5, 17)
    assert parse_date("29221") == date(1980, 1, 1)
    assert parse_date("13/05/1980") == date(1980, 5, 13)
    with pytest.raises(DomainError):
        parse_date("03/04/2020")
    assert parse_date("03/04/2020", "mdy") == date(2020, 3, 4)
    assert [parse_gender(v) for v in ("Herr", "Mme", "Pani", "m", "Mrs.")] == [
        Gender.MALE, Gender.FEMALE, Gender.FEMALE, Gender.MALE, Gender.FEMALE]
    assert [parse_country(v) for v in ("Deutschland", "Pologne", "Niemcy", "FRA", "pl")] == [
        "DE", "PL", "DE", "FR", "PL"]
    assert [parse_language(v) for v in ("Polnisch", "fr-FR", "English", "niemiecki")] == [
        "pl", "fr", "en", "de"]


def test_rows_parse_and_report_with_headings():
    headings = ["Imię", "Nazwisko", "E-mail", "Firma", "Kraj", "NIP", "Newsletter"]
    parser = RowParser(headings, suggest_mapping(headings), ParseOptions())
    good = parser.parse(2, ["Anna", "Nowak", "'anna@x.pl", "Hurt Sp. z o.o.", "Polska",
                            "PL 526-104-08-28", "tak"])
    assert good.errors == []
    assert good.values["customer_type"] == CustomerType.BUSINESS
    assert good.values["vat_number"] == "PL5261040828" and good.values["newsletter"] is True
    bad = parser.parse(3, ["Jan", "Kos", "jan@@x", "", "Atlantis", "", "maybe"])
    # Only the address keeps the row out; the rest is left empty and named in a warning.
    assert [(e.row, e.column) for e in bad.errors] == [(3, "E-mail")]
    assert [(w.row, w.column, w.value) for w in bad.warnings] == [
        (3, "Kraj", "Atlantis"), (3, "Newsletter", "maybe")]
    assert "billing_country" not in bad.values and "newsletter" not in bad.values


def test_magento_address_rows_are_not_customers():
    headings = ["email", "firstname", "lastname", "_address_city"]
    mapping = suggest_mapping(headings)
    rows = [(2, ["a@x.de", "Anna", "Alt", "Berlin"]), (3, ["", "", "", "Potsdam"]),
            (4, ["b@x.de", "Ben", "Bau", "Köln"])]
    combined = list(combine_rows(rows, headings, mapping))
    assert [(n, [m for m, _ in more]) for n, _c, more in combined] == [(2, [3]), (4, [])]


def test_reader_streams_without_loading_the_file(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("First name,Last name,E-mail\n")
        for index in range(200_000):
            handle.write(f"Anna,Nowak,a{index}@x.pl\n")
    rows = open_worksheet(path).rows()
    assert next(rows) == (2, ["Anna", "Nowak", "a0@x.pl"])
    assert sum(1 for _ in rows) == 199_999


def test_an_ods_file_too_large_to_hold_is_refused_with_a_way_round(tmp_path, monkeypatch):
    from shopadmin.sheets import readers

    path = tmp_path / "f.ods"
    rows = "".join("<table:table-row><table:table-cell office:value-type='string'><text:p>"
                   f"a{n}</text:p></table:table-cell></table:table-row>" for n in range(300))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            "<?xml version='1.0' encoding='UTF-8'?><manifest:manifest xmlns:manifest="
            "'urn:oasis:names:tc:opendocument:xmlns:manifest:1.0' manifest:version='1.2'>"
            "<manifest:file-entry manifest:full-path='/' manifest:media-type="
            "'application/vnd.oasis.opendocument.spreadsheet'/><manifest:file-entry "
            "manifest:full-path='content.xml' manifest:media-type='text/xml'/>"
            "</manifest:manifest>"))
        archive.writestr("content.xml", (
            "<?xml version='1.0' encoding='UTF-8'?><office:document-content "
            "xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0' "
            "xmlns:table='urn:oasis:names:tc:opendocument:xmlns:table:1.0' "
            "xmlns:text='urn:oasis:names:tc:opendocument:xmlns:text:1.0'><office:body>"
            f"<office:spreadsheet><table:table table:name='S'>{rows}</table:table>"
            "</office:spreadsheet></office:body></office:document-content>"))
    assert sum(1 for _ in open_worksheet(path, has_headings=False).rows()) == 300
    monkeypatch.setattr(readers, "MAX_ODS_CONTENT", 10_000)  # as a file of 50,000 rows is
    with pytest.raises(WorksheetError) as error:
        open_worksheet(path, has_headings=False)
    assert "Save it as XLSX or CSV" in error.value.message
