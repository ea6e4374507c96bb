"""Exports: the pages with the job worker, the CLI, and the exact round trip in every format."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shopadmin.customers.choices import CustomerType, Gender
from shopadmin.customers.models import Customer, CustomerGroup
from shopadmin.exports.models import ExportJob, ExportStatus
from shopadmin.extensions import db

from ..conftest import csrf_token
from ..factories import make_customer


def varied_customers():
    vip = CustomerGroup(name="VIP")
    db.session.add(vip)
    make_customer(first_name="Zoé", last_name="Lefèvre", email="zoe@exemple.fr", language="fr",
                  phone="+33 1 23 45 67 89", billing_postcode="01000", billing_country="FR",
                  notes="ligne 1\nligne 2 =SUM(A1)", gender=Gender.FEMALE, newsletter=True,
                  customer_type=CustomerType.BUSINESS, company_name="Chez Zoé",
                  vat_number="FR40303265045", birth_date=date(1980, 5, 17))
    customer = make_customer(first_name="Łukasz", last_name="Żółkiewski", email="l@sklep.pl",
                             mobile="+48 601 234 567", billing_city="Łódź", language="pl",
                             billing_country="PL", approved=False, customer_number="'0042")
    customer.groups = [vip]
    make_customer(first_name="Jürgen", last_name="Groß", email="j@shop.de",
                  notes="-5 @x\r\nzweite Zeile a_x0041_b",
                  billing_postcode="04109", shipping_differs=True, shipping_city="Köln",
                  shipping_country="DE")
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "csv_semicolon", "xlsx", "json"])
def test_an_export_reimports_unchanged(runner, tmp_path, fmt, monkeypatch):
    from shopadmin.customers import export as customer_export
    from shopadmin.exports import services as exports

    # Batches of one and progress after every row: the export reads on after each commit.
    monkeypatch.setattr(customer_export, "BATCH", 1)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    varied_customers()
    path = tmp_path / f"customers.{fmt}"
    result = runner.invoke(args=["customers", "export", "--format", fmt, "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 customers written" in result.output
    again = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert again.exit_code == 0, again.output
    assert "would be created: 0, updated: 0, unchanged: 3; rejected rows: 0" in again.output, \
        again.output


def test_translated_headings_reimport_too(runner, tmp_path):
    varied_customers()
    path = tmp_path / "kunden.csv"
    runner.invoke(args=["customers", "export", "--headings", "de", "-o", str(path)])
    assert path.read_text(encoding="utf-8-sig").startswith("ID,Kundennummer,Vorname")
    again = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert "would be created: 0, updated: 0, unchanged: 3; rejected rows: 0" in again.output, \
        again.output


def test_export_pages_with_the_worker(client, login_as, run_jobs):
    login_as("staff")
    varied_customers()
    page = client.get("/customers/?q=lodz").get_data(as_text=True)
    assert "/exports/?query=q%3Dlodz" in page
    token = csrf_token(client, "/exports/?query=q%3Dlodz")
    response = client.post("/exports/", data={"csrf_token": token, "format": "xlsx",
                                              "headings": "", "query": "q=lodz"})
    assert response.status_code == 302
    assert run_jobs() == 1
    export = db.session.scalar(select(ExportJob))
    assert export.status == ExportStatus.READY and export.rows_done == 1
    kept = export.expires_at - export.created_at  # the store's setting, 7 days by default
    assert timedelta(days=6, hours=23) < kept < timedelta(days=7, minutes=5)
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="download"' in shown
    download = client.get(f"/exports/{export.id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data[:2] == b"PK"
    download.close()


def test_imported_customers_are_found_by_the_search(runner, tmp_path):
    from werkzeug.datastructures import MultiDict

    from shopadmin.customers.listing import count_customers

    path = tmp_path / "in.csv"
    path.write_text("Imię;Nazwisko;E-mail;Miasto\nŁucja;Wiśniewska;lucja@sklep.pl;Łódź\n",
                    encoding="cp1250")
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert count_customers(MultiDict({"q": "wisniewska lodz"})) == 1


def test_export_cells_guard_formulas_and_write_times_alike(runner, tmp_path):
    import csv
    import re

    varied_customers()
    make_customer(first_name="=HYPERLINK(1)", last_name="@SUM", email="f@x.test",
                  phone="+49 30 1", mobile="0301", notes="'=kept")
    db.session.add(CustomerGroup(name="-Rabatt"))
    db.session.commit()
    customer = db.session.scalar(select(Customer).where(Customer.email == "f@x.test"))
    customer.groups = [db.session.scalar(select(CustomerGroup).where(
        CustomerGroup.name == "-Rabatt"))]
    db.session.commit()
    path = tmp_path / "out.csv"
    runner.invoke(args=["customers", "export", "-o", str(path)])
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    row = next(r for r in rows if r["E-mail"] == "f@x.test")
    assert (row["First name"], row["Last name"], row["Phone"], row["Mobile"]) == (
        "'=HYPERLINK(1)", "'@SUM", "'+49 30 1", "0301")
    assert row["Notes"] == "''=kept" and row["Groups"] == "'-Rabatt"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", r["Created"]) for r in rows)
    plain = next(r for r in rows if r["E-mail"] == "zoe@exemple.fr")
    assert (plain["First name"], plain["Phone"], plain["Birth date"]) == (
        "Zoé", "'+33 1 23 45 67 89", "1980-05-17")
    again = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert "would be created: 0, updated: 0, unchanged: 4; rejected rows: 0" in again.output, \
        again.output


@pytest.mark.parametrize("fmt", ["csv", "csv_semicolon"])
def test_a_big_csv_export_is_written_by_two_processes_alike(runner, tmp_path, fmt,
                                                           monkeypatch):
    from shopadmin.exports import services as exports

    varied_customers()
    for index in range(7):
        make_customer(first_name=f"=Kunde {index}", email=f"k{index}@shop.test")
    one = tmp_path / "one.csv"
    runner.invoke(args=["customers", "export", "--format", fmt, "-o", str(one)])
    monkeypatch.setattr(exports, "PARALLEL_ROWS", 0)
    two = tmp_path / "two.csv"
    result = runner.invoke(args=["customers", "export", "--format", fmt, "-o", str(two)])
    assert "10 customers written" in result.output, result.output
    assert two.read_bytes() == one.read_bytes()
    assert two.read_bytes().count(b"\xef\xbb\xbf") == 1  # one byte order mark, at the start
    assert not list(tmp_path.glob("*.part"))


def test_the_daily_clean_up_removes_files_runs_left_unfinished_a_day_ago(app):
    import os
    import time
    from pathlib import Path

    from shopadmin.exports.services import remove_expired_exports

    folder = Path(app.config["EXPORT_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    killed = folder / "customers-2026-11-24-7.csv.1a2b3c4d.writing"
    running = folder / "customers-2026-11-26-8.csv.5e6f7a8b.writing"
    finished = folder / "customers-2026-11-24-6.csv"
    for path in (killed, running, finished):
        path.write_text("ID\r\n")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(killed, (two_days_ago, two_days_ago))
    os.utime(finished, (two_days_ago, two_days_ago))
    remove_expired_exports.call_local()
    assert not killed.exists()
    assert running.exists() and finished.exists()  # the latter goes with its export's expiry


def test_a_big_xlsx_export_made_by_a_second_process_is_the_same(runner, tmp_path, monkeypatch):
    from shopadmin.exports import services as exports
    from shopadmin.sheets.readers import open_worksheet

    varied_customers()
    for index in range(7):
        make_customer(first_name=f"=Kunde {index}", email=f"k{index}@shop.test",
                      notes="Tor 2\x1fHof" if index == 3 else "")
    one = tmp_path / "one.xlsx"
    runner.invoke(args=["customers", "export", "--format", "xlsx", "-o", str(one)])
    monkeypatch.setattr(exports, "XLSX_PARALLEL_ROWS", 0)
    two = tmp_path / "two.xlsx"
    result = runner.invoke(args=["customers", "export", "--format", "xlsx", "-o", str(two)])
    assert "10 customers written" in result.output, result.output
    rows = list(open_worksheet(two).rows())
    assert rows == list(open_worksheet(one).rows()) and len(rows) == 10
    assert any("'=Kunde 3" in cells for _number, cells in rows)
    assert any("Tor 2\x1fHof" in cells for _number, cells in rows)


def test_chosen_columns_without_the_id_keep_each_members_groups(app, tmp_path, monkeypatch):
    """The rows go to the writer in blocks as read: without the id among the columns, and with
    members of groups that the filter leaves out between them, each row has its own groups."""
    import csv

    from shopadmin.customers import export as customer_export
    from shopadmin.exports.services import start_export, write_export

    monkeypatch.setattr(customer_export, "BATCH", 2)
    vip, top = CustomerGroup(name="VIP"), CustomerGroup(name="=Top")
    db.session.add_all([vip, top])
    people = [("a@shop.test", "DE", [vip]), ("b@shop.test", "FR", [vip, top]),
              ("c@shop.test", "DE", []), ("d@shop.test", "DE", [vip, top]),
              ("e@shop.test", "FR", [top]), ("f@shop.test", "DE", [top])]
    for email, country, groups in people:
        make_customer(email=email, billing_country=country).groups = groups
    db.session.commit()
    export = start_export(None, "csv", ["email", "groups"], "country=DE", None)
    db.session.commit()
    path = tmp_path / "chosen.csv"
    assert write_export(export, path) == 4
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [["E-mail", "Groups"], ["a@shop.test", "VIP"], ["c@shop.test", ""],
                    ["d@shop.test", "'=Top, VIP"], ["f@shop.test", "'=Top"]]
