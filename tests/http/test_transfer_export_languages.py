"""Exports with translated headings write their values in that language too, and times on the
store's clock, and still re-import unchanged, in every language."""

import csv
import re

import pytest

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.formats import local_time

from .test_transfer_export import varied_customers

# The French business customer's row, by heading, in each language.
EXPECTED = {
    "de": {"Newsletter": "Ja", "Geschlecht": "Weiblich", "Land": "Frankreich",
           "Sprache": "Französisch", "Kundentyp": "Geschäftskunde"},
    "fr": {"Newsletter": "Oui", "Genre": "Femme", "Pays": "France", "Langue": "Français",
           "Type de client": "Professionnel"},
    "pl": {"Newsletter": "Tak", "Płeć": "Kobieta", "Kraj": "Francja", "Język": "Francuski",
           "Typ klienta": "Firma"},
    "en": {"Newsletter": "Yes", "Gender": "Female", "Country": "France", "Language": "French",
           "Customer type": "Business"},
}


def read_rows(path):
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


@pytest.mark.parametrize("language", ["de", "fr", "pl", "en"])
def test_translated_values_reimport_unchanged(runner, tmp_path, language):
    varied_customers()
    path = tmp_path / f"customers-{language}.csv"
    result = runner.invoke(args=["customers", "export", "--headings", language, "-o", str(path)])
    assert result.exit_code == 0, result.output
    headings, *rows = read_rows(path)
    french = dict(zip(headings, next(r for r in rows if "zoe@exemple.fr" in r), strict=True))
    for heading, value in EXPECTED[language].items():
        assert french[heading] == value, (heading, french[heading])
    # Times as the store's clock shows them, without the UTC offset.
    created = next(h for h in headings if h not in EXPECTED[language]
                   and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", french[h]))
    customer = db.session.get(Customer, int(french[headings[0]]))
    assert french[created] == local_time(customer.created_at).strftime("%Y-%m-%d %H:%M")
    again = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert again.exit_code == 0, again.output
    assert "would be created: 0, updated: 0, unchanged: 3; rejected rows: 0" in again.output, \
        again.output


@pytest.mark.parametrize(("language", "fmt"), [("pl", "xlsx"), ("fr", "csv_semicolon")])
def test_translated_worksheets_reimport_unchanged(runner, tmp_path, language, fmt):
    varied_customers()
    path = tmp_path / f"customers.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    result = runner.invoke(args=["customers", "export", "--headings", language, "--format", fmt,
                                 "-o", str(path)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert "would be created: 0, updated: 0, unchanged: 3; rejected rows: 0" in again.output, \
        again.output


def test_two_processes_write_translated_values_alike(runner, tmp_path, monkeypatch):
    from shopadmin.exports import services as exports

    varied_customers()
    one = tmp_path / "one.csv"
    runner.invoke(args=["customers", "export", "--headings", "pl", "-o", str(one)])
    monkeypatch.setattr(exports, "PARALLEL_ROWS", 0)
    two = tmp_path / "two.csv"
    runner.invoke(args=["customers", "export", "--headings", "pl", "-o", str(two)])
    assert two.read_bytes() == one.read_bytes()
    assert "Tak" in two.read_text(encoding="utf-8-sig")


def test_order_exports_name_status_and_countries(runner, tmp_path):
    from .test_orders_pages import make_order

    make_order("B-7", country="AT")
    path = tmp_path / "orders.csv"
    result = runner.invoke(args=["orders", "export", "--headings", "de", "-o", str(path)])
    assert result.exit_code == 0, result.output
    headings, row = read_rows(path)
    order = dict(zip(headings, row, strict=True))
    assert order["Status"] == "Neu" and "Österreich" in row
    assert order["Datum"] == "2026-03-01 13:00"  # 12:00 UTC on the store's clock


def test_the_import_reads_every_value_the_interface_writes(app):
    """Whatever the catalogues call yes/no, a gender or a customer type (a translated export's
    values) reads back, also when the import's own word lists lack the wording."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from shopadmin.customers.choices import GENDER_LABELS, TYPE_LABELS
    from shopadmin.imports.values import (
        _interface_word,
        parse_bool,
        parse_customer_type,
        parse_gender,
    )
    from shopadmin.text import fold

    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                yes, no = _("Yes"), _("No")
                genders = {str(label): gender for gender, label in GENDER_LABELS.items()}
                types = {str(label): kind for kind, label in TYPE_LABELS.items()}
            assert parse_bool(yes) is True and parse_bool(no) is False
            assert _interface_word("bool", fold(yes)) is True
            assert _interface_word("bool", fold(no)) is False
            for label, gender in genders.items():
                assert parse_gender(label) == gender
                assert _interface_word("gender", fold(label)) == gender
            for label, kind in types.items():
                assert parse_customer_type(label) == kind
                assert _interface_word("type", fold(label)) == kind
