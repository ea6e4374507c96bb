"""The one password policy, for customers and staff: long enough, not one of the most common
ones, not the e-mail address; and how passwords are hashed."""

import functools
import gzip
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.security import generate_password_hash

from .domain import DomainError
from .text import email_key

MIN_LENGTH = 8
# Staff open every customer's data: their passwords are longer.
STAFF_MIN_LENGTH = 10
MAX_LENGTH = 200
# The common passwords of eight characters or more from the list Django ships (BSD licence;
# compiled by Royce Williams), lowercased; shorter ones fail the length rule anyway.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def check_password(password: str, *, email: str = "", field: str = "password",
                   min_length: int = MIN_LENGTH) -> None:
    """Raise a DomainError at `field` unless the password may be used."""
    if len(password) < min_length:
        raise DomainError(
            ngettext("The password must have at least %(num)d character.",
                     "The password must have at least %(num)d characters.", min_length),
            field,
        )
    if len(password) > MAX_LENGTH:
        raise DomainError(
            _("The password must not be longer than %(num)d characters.", num=MAX_LENGTH),
            field,
        )
    folded = password.strip().lower()
    if folded in common_passwords() or (email and folded == email_key(email)):
        raise DomainError(
            _("This password is among the most common ones and easy to guess. "
              "Please choose another."),
            field,
        )
    if len(set(password)) < 3:
        raise DomainError(_("This password is too easy to guess. Please choose another."), field)


def hash_method() -> str:
    """The hash and its parameters for new passwords, e.g. "scrypt:131072:8:1"."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def hash_password(password: str) -> str:
    """A memory-hard hash with a per-password salt, at the configured parameters."""
    return generate_password_hash(password, method=hash_method())


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than new ones get."""
    return stored_hash.split("$", 1)[0] != hash_method()
