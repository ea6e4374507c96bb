"""The store's number series for customer numbers: a prefix, a width and the next number (store
settings). New customers of an import that asks for it get the next free numbers."""

from collections.abc import Set

from sqlalchemy import select

from ..extensions import db
from ..settings.models import Setting
from ..settings.services import get_setting, update_settings
from .models import Customer


def series_number(number: int, prefix: str | None = None, digits: int | None = None) -> str:
    """The customer number the series gives for `number` ("K-" and 5 digits: "K-00042")."""
    prefix = get_setting("customer_number_prefix") if prefix is None else prefix
    digits = get_setting("customer_number_digits") if digits is None else digits
    return f"{prefix}{number:0{digits}d}"


def take_numbers(count: int, also_taken: Set[str] = frozenset()) -> list[str]:
    """The next `count` numbers of the series, passing over those a customer (or `also_taken`,
    the batch's own) already has, and move the series on. Flushes; the caller commits, so a
    batch that is rolled back gives its numbers back."""
    if count <= 0:
        return []
    # On PostgreSQL the setting's row is locked until the caller commits: two imports at once
    # take different numbers. (SQLite has one writer at a time anyway.)
    db.session.execute(select(Setting).where(Setting.key == "customer_number_next")
                       .with_for_update())
    prefix, digits = get_setting("customer_number_prefix"), get_setting("customer_number_digits")
    following = get_setting("customer_number_next")
    numbers: list[str] = []
    while len(numbers) < count:
        candidates = [series_number(following + i, prefix, digits)
                      for i in range(count - len(numbers))]
        following += len(candidates)
        taken = set(db.session.scalars(select(Customer.customer_number).where(
            Customer.customer_number.in_(candidates))))
        numbers += [number for number in candidates
                    if number not in taken and number not in also_taken]
    update_settings({"customer_number_next": following})
    return numbers
