"""The store's number series for customer numbers: a prefix, a width and the next number (store
settings). Every customer created without a number gets the next free one: from the customer
form, the storefront API and the demo data; and the new customers of an import that asks
for it.

No Flask here: the functions are given the session to work in and the store's settings
(settings.services.get_settings), whose stored values the session reads afresh."""

from collections.abc import Mapping, Set
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, scoped_session

from ..database import utcnow
from ..settings.models import Setting
from .models import Customer

# A session, or Flask-SQLAlchemy's db.session (a scoped one) as the app passes it.
AnySession = Session | scoped_session[Any]
NEXT = "customer_number_next"
PREFIX, DIGITS = "customer_number_prefix", "customer_number_digits"


def series_number(number: int, settings: Mapping[str, Any]) -> str:
    """The customer number the series gives for `number` ("K-" and 5 digits: "K-00042")."""
    return f"{settings[PREFIX]}{number:0{settings[DIGITS]}d}"


def take_numbers(session: AnySession, settings: Mapping[str, Any], count: int,
                 also_taken: Set[str] = frozenset()) -> list[str]:
    """The next `count` numbers of the series, passing over those a customer (or `also_taken`,
    the batch's own) already has, and move the series on. Flushes; the caller commits, so a
    batch that is rolled back gives its numbers back. `settings` give the series' defaults;
    what is stored is read in `session` (a colleague may have changed the prefix since).

    Two colleagues (or an import and a colleague) taking numbers at once get different ones:
    the series' row is written before it is read, which holds PostgreSQL's row lock, or
    SQLite's write lock, until the caller commits."""
    if count <= 0:
        return []
    _hold_series(session, settings)
    stored: dict[str, Any] = dict(session.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_((NEXT, PREFIX, DIGITS)))).all())
    series = {**settings, **stored}
    following = series[NEXT]
    numbers: list[str] = []
    while len(numbers) < count:
        candidates = [series_number(following + i, series)
                      for i in range(count - len(numbers))]
        following += len(candidates)
        taken = set(session.scalars(select(Customer.customer_number).where(
            Customer.customer_number.in_(candidates))))
        numbers += [number for number in candidates
                    if number not in taken and number not in also_taken]
    session.execute(update(Setting).where(Setting.key == NEXT)
                    .values(value=following, updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    kept = session.get(Setting, NEXT)
    if kept is not None:
        session.expire(kept)  # the session's copy would show the old number
    return numbers


def take_number(session: AnySession, settings: Mapping[str, Any]) -> str:
    """The next number of the series, for one new customer (see take_numbers)."""
    return take_numbers(session, settings, 1)[0]


def _hold_series(session: AnySession, settings: Mapping[str, Any]) -> None:
    """Store the series' next number if it is still the default, and lock its row."""
    session.flush()
    table = Setting.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(table).values(key=NEXT, value=settings[NEXT], updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["key"]))
    # A write that changes nothing: the lock is what it is for.
    session.execute(update(table).where(table.c.key == NEXT).values(key=table.c.key))
