"""Builders of test data, through the services the app itself uses."""

import itertools

from shopadmin.auth.models import Role
from shopadmin.auth.services import create_staff_user
from shopadmin.extensions import db

_numbers = itertools.count(1)


def make_staff(role: str = "staff", password: str = "correct horse battery", **fields):
    email = fields.pop("email", None) or f"{role}{next(_numbers)}@shop.test"
    user, _ = create_staff_user(email, role=Role(role), password=password, **fields)
    db.session.commit()
    return user


def make_customer(**fields):
    """A live customer with sensible defaults; any Customer attribute can be given."""
    from shopadmin.customers.models import Customer

    number = next(_numbers)
    fields.setdefault("first_name", "Anna")
    fields.setdefault("last_name", f"Kowalska {number:05d}")  # (in the name order as made)
    fields.setdefault("email", f"customer{number}@shop.test")
    fields["email_key"] = fields["email"].lower()
    customer = Customer(**fields)
    db.session.add(customer)
    db.session.commit()
    return customer
