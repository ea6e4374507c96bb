"""The CSV export's fast path (cells joined by the database, guarded and quoted over the block's
bytes) writes byte for byte what the general path (rows as cells, csv.writer) writes, for every
awkward value, on SQLite and on PostgreSQL (DATABASE_URL)."""

import csv
import io

import pytest

from shopadmin.customers.choices import Gender
from shopadmin.customers.models import CustomerGroup
from shopadmin.exports.kinds import EXPORT_KINDS
from shopadmin.extensions import db
from shopadmin.sheets.writers import DELIMITERS, write_csv

from ..factories import make_customer

AWKWARD = [
    'say "hi"', '"', '""', "a,b", "a;b", ";", ",", "line 1\nline 2", "cr\ronly", "crlf\r\nend",
    "\n", "=SUM(A1)", "+49 30 1", "-5", "@home", "\tTab", "\rReturn", "'quoted", "''twice",
    "'=both", "=\"a,b\"", "Łódź", "東京都", "Ελλάδα", "emoji 😀", "  spaced  ", "", "x\x1fy",
    "\x1e", "a_x0041_b", "back\\slash", "\\N", "\\.",
]


def awkward_customers():
    groups = [CustomerGroup(name=name) for name in ("VIP", "=Top", "Kunden, aktiv", 'Die "Besten"',
                                                    "Ärzte")]
    db.session.add_all(groups)
    for index, text in enumerate(AWKWARD):
        customer = make_customer(
            first_name=text, last_name=AWKWARD[-index - 1], email=f"c{index}@shop.test",
            notes=text, billing_city=text, phone=text[:40], company_name=text,
            customer_number=None if index % 3 else f"{text[:50]}{index}",
            language=None if index % 2 else "pl", gender=Gender.FEMALE if index % 4 else None)
        customer.groups = [group for number, group in enumerate(groups)
                           if (index >> number) & 1]
    make_customer(first_name="", last_name="", email="empty@shop.test")
    db.session.commit()


def _both_paths(tmp_path, fmt: str, names: list[str] | None = None, query: str = "",
                **part) -> tuple[bytes, bytes]:
    kind = EXPORT_KINDS["customers"]
    columns = kind.columns_for(names)
    headings = kind.headings(columns, None)
    general, fast = tmp_path / "general.csv", tmp_path / "fast.csv"
    written = write_csv(general, fmt, headings, kind.blocks(columns, query, True, **part))
    assert kind.csv_text is not None
    assert write_csv(fast, fmt, headings,
                     kind.csv_text(columns, query, DELIMITERS[fmt], **part)) == written
    return general.read_bytes(), fast.read_bytes()


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                           delimiter=delimiter))


@pytest.mark.parametrize("fmt", ["csv", "csv_semicolon"])
@pytest.mark.parametrize("batch", [4, 5000])
def test_the_fast_path_writes_what_csv_writer_writes(app, tmp_path, fmt, batch, monkeypatch):
    from shopadmin.customers import export as customer_export

    # Blocks with and without a separator in a cell.
    monkeypatch.setattr(customer_export, "BATCH", batch)
    awkward_customers()
    general, fast = _both_paths(tmp_path, fmt)
    assert fast == general
    rows = _rows(fast, DELIMITERS[fmt])
    assert len(rows) == len(AWKWARD) + 2
    first_names = [row[2] for row in rows[1:]]
    assert "'=SUM(A1)" in first_names and "'''twice" in first_names
    assert "line 1\nline 2" in first_names and 'say "hi"' in first_names
    assert "x\x1fy" in first_names and "emoji 😀" in first_names
    assert "'=Top, Die \"Besten\", Kunden, aktiv, VIP, Ärzte" in [row[42] for row in rows]


@pytest.mark.parametrize("names", [["email", "groups"], ["first_name", "notes", "id"],
                                   ["notes"], ["birth_date", "approved", "created_at"]])
def test_chosen_columns_filters_and_parts_alike(app, tmp_path, names, monkeypatch):
    from shopadmin.customers import export as customer_export

    monkeypatch.setattr(customer_export, "BATCH", 3)
    awkward_customers()
    general, fast = _both_paths(tmp_path, "csv", names)
    assert fast == general and fast.count(b"\r\n") >= len(AWKWARD) + 2
    general, fast = _both_paths(tmp_path, "csv_semicolon", names, "language=pl")
    assert fast == general and len(_rows(fast, ";")) > 10
    middle = db.session.scalar(db.select(db.func.min(customer_export.Customer.id))) + 10
    for part in ({"upto": middle}, {"after": middle}):
        general, fast = _both_paths(tmp_path, "csv", names, **part)
        assert fast == general
