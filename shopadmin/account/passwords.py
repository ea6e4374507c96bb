"""The rules for a customer's password: long enough, not one of the most common ones."""

import functools
import gzip
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext

from ..errors import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 200
# The common passwords of eight characters or more from the list Django ships (BSD licence;
# compiled by Royce Williams), lowercased; shorter ones fail the length rule anyway.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def check_customer_password(password: str, email: str = "") -> None:
    """Raise a DomainError at field "password" unless the password may be used."""
    if len(password) < MIN_LENGTH:
        raise DomainError(
            ngettext("The password must have at least %(num)d character.",
                     "The password must have at least %(num)d characters.", MIN_LENGTH),
            "password",
        )
    if len(password) > MAX_LENGTH:
        raise DomainError(
            _("The password must not be longer than %(num)d characters.", num=MAX_LENGTH),
            "password",
        )
    folded = password.strip().lower()
    if folded in common_passwords() or (email and folded == email.strip().lower()):
        raise DomainError(
            _("This password is among the most common ones and easy to guess. "
              "Please choose another."),
            "password",
        )
    if len(set(password)) < 3:
        raise DomainError(_("This password is too easy to guess. Please choose another."),
                          "password")
