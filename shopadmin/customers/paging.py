"""Deep pages of the customer list, and its counts, without stepping over every row before them.

`?page=N` stays the page's address. An offset makes the database step over every customer
before the page: page 10,000 of a million is half a million index entries, a second with the
rows. Instead the list keeps *anchors*: the sort key of every ANCHOR_EVERY-th customer of a
list (its filters and its order), read in one pass; a deep page starts after the anchor before
it (an index range) and steps over fewer than ANCHOR_EVERY customers, whatever its number.

Anchors and counts are kept in this process for as long as the register is unchanged, which a
stamp of a few index look-ups tells: every write of a customer sets its `updated_at` or makes a
new id, every trash move sets `deleted_at` or records an audit event, and so does every erasure.
A list whose filters involve other tables (a search, a group, an import) is counted and paged
the plain way.
"""

from collections import OrderedDict
from threading import Lock
from typing import Any

from sqlalchemy import func, or_, select, tuple_

from ..audit import AuditEvent
from ..extensions import db
from .models import Customer

ANCHOR_EVERY = 2000
DIRECT_OFFSET = 10_000  # an offset below this costs little: no anchors
KEPT_LISTS = 64
# Filters read from other tables, whose changes the stamp does not see.
UNSTAMPED_FILTERS = ("q", "group", "import", "warnings")

_kept: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
_lock = Lock()


def stampable(args) -> bool:
    return not any(args.get(key) for key in UNSTAMPED_FILTERS)


def register_stamp() -> tuple:
    """Changes whenever a customer is added, changed, trashed, restored or erased."""
    customers = db.session.execute(select(
        func.max(Customer.id), func.max(Customer.updated_at), func.max(Customer.deleted_at),
    )).one()
    trashed = db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.deleted_at.is_not(None)))
    events = db.session.scalar(select(func.max(AuditEvent.id)))
    return (db.engine.url.render_as_string(), *customers, trashed, events)


def _filters_key(args) -> tuple:
    return tuple(sorted((key, tuple(args.getlist(key))) for key in args if key != "sort"))


def kept(kind: str, args, stamp: tuple, compute):
    """compute(), remembered for these filters while the stamp stays the same."""
    key = (kind, _filters_key(args), args.get("sort") or "")
    with _lock:
        found = _kept.get(key)
        if found is not None and found[0] == stamp:
            _kept.move_to_end(key)
            return found[1]
    value = compute()
    with _lock:
        _kept[key] = (stamp, value)
        _kept.move_to_end(key)
        while len(_kept) > KEPT_LISTS:
            _kept.popitem(last=False)
    return value


def anchors(filtered, columns: tuple, order: list) -> list[tuple]:
    """The sort keys of every ANCHOR_EVERY-th row of `filtered` (a select of live customers
    with their filters) in `order`: one pass, numbered by the database."""
    numbered = filtered.add_columns(
        func.row_number().over(order_by=order).label("position")).subquery()
    keys = [numbered.c[column.key] for column in columns]
    return [tuple(row) for row in db.session.execute(
        select(*keys).where(numbered.c.position % ANCHOR_EVERY == 0)
        .order_by(numbered.c.position))]


def after_anchor(query, columns: tuple, keys: list[tuple], offset: int, descending: bool):
    """`query` (ordered by `columns`) narrowed to start after the nearest anchor before
    `offset`, with the offset that remains."""
    index = min(offset // ANCHOR_EVERY, len(keys))
    # A key holding NULL (a customer without a number) orders differently per database and
    # compares to nothing: such anchors are passed over for an earlier one.
    while index and any(value is None for value in keys[index - 1]):
        index -= 1
    if not index:
        return query, offset
    row = tuple_(*columns)
    anchor = tuple_(*keys[index - 1])
    after = row < anchor if descending else row > anchor
    # NULLs sort first on SQLite and last on PostgreSQL; where they follow the anchor, they
    # belong after it too (the comparison above leaves them out).
    nulls_follow = descending if db.engine.dialect.name == "sqlite" else not descending
    if columns[0].nullable and nulls_follow:
        after = or_(after, columns[0].is_(None))
    return query.where(after), offset - index * ANCHOR_EVERY
