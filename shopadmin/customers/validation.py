"""Checks of single customer values, shared by the form, the import and the storefront API.

Each function takes what a person typed and returns the value to store, or raises a
DomainError whose message is translated and names the field it belongs to.
"""

from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from ..errors import DomainError

OLDEST_BIRTH_YEAR = 1900


def email_key(email: str) -> str:
    """The form of an address under which it is unique in the register."""
    return email.strip().lower()


def normalise_email(value: str, field: str = "email") -> str:
    """A syntactically valid address (no DNS lookup), with its domain in normal form."""
    value = (value or "").strip()
    if not value:
        raise DomainError(_("Enter an e-mail address."), field)
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(
            _("“%(value)s” is not a valid e-mail address.", value=value), field
        ) from None


def _vat_module(country: str | None, number: str):
    """The python-stdnum VAT module for the number's prefix or else the customer's country."""
    prefix = number[:2].upper()
    if prefix.isalpha() and eu_vat.guess_country(number):
        return eu_vat, number
    if country:
        if country.lower() in eu_vat.MEMBER_STATES:
            prefix = "EL" if country.upper() == "GR" else country.upper()
            return eu_vat, f"{prefix}{number}"
        module = get_cc_module(country.lower(), "vat")
        if module is not None:
            return module, number
    return None, number


def normalise_vat_number(value: str, country: str | None, field: str = "vat_number") -> str:
    """A VAT number checked for format and check digits by python-stdnum, in compact form.

    Numbers of EU member states are stored with their country prefix; a number of a country
    python-stdnum knows nothing about is refused, since it cannot be checked.
    """
    number = "".join((value or "").split()).replace(".", "").replace("-", "")
    if not number:
        return ""
    module, candidate = _vat_module(country, number)
    if module is None:
        raise DomainError(
            _("VAT numbers of this country cannot be checked; choose the billing country first."),
            field,
        )
    try:
        return module.validate(candidate)
    except ValidationError:
        raise DomainError(
            _("“%(value)s” is not a valid VAT number.", value=value.strip()), field
        ) from None


def check_birth_date(value: date | None, field: str = "birth_date") -> date | None:
    """A birth date is not in the future and not before 1900."""
    if value is None:
        return None
    if value > date.today():
        raise DomainError(_("A birth date cannot be in the future."), field)
    if value.year < OLDEST_BIRTH_YEAR:
        raise DomainError(
            _("A birth date before %(year)d is not plausible.", year=OLDEST_BIRTH_YEAR), field
        )
    return value
