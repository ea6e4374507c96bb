"""The store's number series for customer numbers: a prefix, a width and the next number (store
settings). Every customer created without a number gets the next free one: from the customer
form, the storefront API and the demo data; and the new customers of an import that asks
for it."""

from collections.abc import Set

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..extensions import db
from ..settings.models import Setting
from ..settings.services import get_setting
from .models import Customer

NEXT = "customer_number_next"


def series_number(number: int, prefix: str | None = None, digits: int | None = None) -> str:
    """The customer number the series gives for `number` ("K-" and 5 digits: "K-00042")."""
    prefix = get_setting("customer_number_prefix") if prefix is None else prefix
    digits = get_setting("customer_number_digits") if digits is None else digits
    return f"{prefix}{number:0{digits}d}"


def take_numbers(count: int, also_taken: Set[str] = frozenset()) -> list[str]:
    """The next `count` numbers of the series, passing over those a customer (or `also_taken`,
    the batch's own) already has, and move the series on. Flushes; the caller commits, so a
    batch that is rolled back gives its numbers back.

    Two colleagues (or an import and a colleague) taking numbers at once get different ones:
    the series' row is written before it is read, which holds PostgreSQL's row lock, or
    SQLite's write lock, until the caller commits."""
    if count <= 0:
        return []
    _hold_series()
    prefix, digits = get_setting("customer_number_prefix"), get_setting("customer_number_digits")
    following = db.session.execute(select(Setting.value).where(Setting.key == NEXT)).scalar_one()
    numbers: list[str] = []
    while len(numbers) < count:
        candidates = [series_number(following + i, prefix, digits)
                      for i in range(count - len(numbers))]
        following += len(candidates)
        taken = set(db.session.scalars(select(Customer.customer_number).where(
            Customer.customer_number.in_(candidates))))
        numbers += [number for number in candidates
                    if number not in taken and number not in also_taken]
    db.session.execute(update(Setting).where(Setting.key == NEXT)
                       .values(value=following, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    stored = db.session.get(Setting, NEXT)
    if stored is not None:
        db.session.expire(stored)  # the session's copy would show the old number
    return numbers


def take_number() -> str:
    """The next number of the series, for one new customer (see take_numbers)."""
    return take_numbers(1)[0]


def _hold_series() -> None:
    """Store the series' next number if it is still the default, and lock its row."""
    db.session.flush()
    table = Setting.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(table).values(key=NEXT, value=get_setting(NEXT),
                                            updated_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["key"]))
    # A write that changes nothing: the lock is what it is for.
    db.session.execute(update(table).where(table.c.key == NEXT).values(key=table.c.key))
