from datetime import date, timedelta

import pytest

from shopadmin.customers.validation import (
    check_birth_date,
    normalise_email,
    normalise_vat_number,
)
from shopadmin.domain import DomainError
from shopadmin.sheets.cells import neutralise, unneutralise


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


def test_email_is_checked_without_dns():
    assert normalise_email(" anna@Example.COM ") == "anna@example.com"
    with pytest.raises(DomainError) as error:
        normalise_email("anna@@example.com")
    assert error.value.field == "email"


@pytest.mark.parametrize(("address", "reserved"), [
    ("kunde@laden.invalid", "invalid"), ("Kasse@Filiale.LOCAL", "local"),
    ("x@shop.example.onion", "onion")])
def test_an_address_at_a_reserved_domain_says_why_it_is_refused(address, reserved):
    with pytest.raises(DomainError) as error:
        normalise_email(address)
    assert error.value.message == (
        f"“{address}” can never receive mail: “.{reserved}” is reserved for tests and local "
        "networks, not given to anyone on the internet.")
    with pytest.raises(DomainError) as error:
        normalise_email("anna@localhost")  # no dot: not an address on the internet at all
    assert "is not a valid e-mail address" in error.value.message


@pytest.mark.parametrize(("number", "country", "stored"), [
    ("FR 40 303 265 045", "FR", "FR40303265045"),
    ("40303265045", "FR", "FR40303265045"),
    ("DE136695976", None, "DE136695976"),
    ("PL 526-104-08-28", "PL", "PL5261040828"),
])
def test_vat_numbers_are_checked_by_country(number, country, stored):
    assert normalise_vat_number(number, country) == stored


def test_bad_vat_check_digits_are_refused():
    with pytest.raises(DomainError) as error:
        normalise_vat_number("FR41303265045", "FR")
    assert error.value.field == "vat_number"


def test_birth_dates_in_the_future_are_refused():
    assert check_birth_date(date(1980, 5, 17)) == date(1980, 5, 17)
    with pytest.raises(DomainError):
        check_birth_date(date.today() + timedelta(days=1))


def test_the_fast_path_for_plain_addresses_agrees_with_email_validator():
    from email_validator import EmailNotValidError, validate_email

    from shopadmin.customers.validation import _plain_address

    cases = ["Jan.Kowalski@Sklep.PL", "a+b@x.co", "a..b@x.com", ".a@x.com", "a.@x.com", "a@x",
             "a@x.test", "a@-x.com", "a@x-.com", "a@localhost", "a@sub.local", "a%b@x.com",
             "a@x..com", "a@x.com.", "x_y-z@a-b.c-d.museum", "a@1.2.3.4", "a@xn--bcher-kva.de",
             "a@b.arpa", "a@" + "b" * 64 + ".com", "a@" + "b" * 63 + ".com", "ą@x.pl"]
    fast_ones = 0
    for address in cases:
        fast = _plain_address(address)
        if fast is None:
            continue
        fast_ones += 1
        try:
            slow = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError:
            slow = None
        assert fast == slow, address
    assert fast_ones >= 5
