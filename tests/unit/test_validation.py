from datetime import date, timedelta

import pytest

from shopadmin.customers.validation import (
    check_birth_date,
    normalise_email,
    normalise_vat_number,
)
from shopadmin.errors import DomainError
from shopadmin.transfer.cells import neutralise, unneutralise


@pytest.mark.parametrize("text", [
    "=SUM(A1:A2)", "+48 601 234 567", "-5", "@cmd", "\tx", "'quoted", "''", "'5", "'+1",
    "plain", "", "0301234", "Müller", "line\nbreak",
])
def test_neutralise_round_trips(text):
    written = neutralise(text)
    assert written[:1] not in {"=", "+", "-", "@", "\t", "\r"}
    assert unneutralise(written) == text


def test_unneutralise_strips_shopify_quotes():
    assert unneutralise("'+4930123456") == "+4930123456"
    assert unneutralise("'01234") == "01234"
    assert unneutralise("'abc") == "'abc"


def test_email_is_checked_without_dns(app):
    assert normalise_email(" anna@Example.COM ") == "anna@example.com"
    with pytest.raises(DomainError) as error:
        normalise_email("anna@@example.com")
    assert error.value.field == "email"


@pytest.mark.parametrize(("number", "country", "stored"), [
    ("FR 40 303 265 045", "FR", "FR40303265045"),
    ("40303265045", "FR", "FR40303265045"),
    ("DE136695976", None, "DE136695976"),
    ("PL 526-104-08-28", "PL", "PL5261040828"),
])
def test_vat_numbers_are_checked_by_country(app, number, country, stored):
    assert normalise_vat_number(number, country) == stored


def test_bad_vat_check_digits_are_refused(app):
    with pytest.raises(DomainError) as error:
        normalise_vat_number("FR41303265045", "FR")
    assert error.value.field == "vat_number"


def test_birth_dates_in_the_future_are_refused(app):
    assert check_birth_date(date(1980, 5, 17)) == date(1980, 5, 17)
    with pytest.raises(DomainError):
        check_birth_date(date.today() + timedelta(days=1))
