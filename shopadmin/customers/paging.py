"""Deep pages of the customer list, and its counts, without stepping over every row before them.

`?page=N` stays the page's address. An offset makes the database step over every customer
before the page: page 10,000 of a million is half a million index entries, a second with the
rows. Instead a deep page starts in a *segment* of its list (its filters and its order; some
ANCHOR_EVERY customers of the register long, fewer of a filtered list): after the sort key
that ends the segment before, then a short offset (positions.py keeps the segments).

Counts and segments are kept in this process and checked against a stamp of a few index
look-ups: every write of a customer sets its `updated_at` to now (so the live customers' latest
`updated_at` moves; no customer is dated after now) or makes a new id, every trash move sets
`deleted_at` or records an audit event, and so does every erasure. A changed stamp moves the
segments along with the customers that changed (positions.py); a count without segments is
counted again. A list filtered by a search or an import is paged the plain way (a search
alone: see search_pages); an import's list (or its warnings') is counted once per stamp of the
register and of the import tables, a search's each time.
"""

from collections import OrderedDict
from threading import Lock
from typing import Any

from sqlalchemy import and_, func, or_, select, text, tuple_

from ..audit import AuditEvent
from ..extensions import db
from .models import Customer

ANCHOR_EVERY = 2000
DIRECT_OFFSET = 10_000  # an offset below this costs little: no segments


def spacing(total: int, live: int) -> int:
    """Customers in a segment of a list of `total` of the `live` customers: fewer the fewer
    match, so that the walk from a segment's start to a page (through the sort order's index,
    keeping the matches) passes about ANCHOR_EVERY customers of the register."""
    return max(1, ANCHOR_EVERY * total // max(live, 1))


def worth_segments(offset: int, total: int, live: int) -> bool:
    """Whether reaching this offset would walk past DIRECT_OFFSET customers or more."""
    return offset * live >= DIRECT_OFFSET * max(total, 1)


KEPT_LISTS = 64
# Filters read from other tables, whose changes the stamp does not see (an import records a
# warning on a customer it leaves unchanged; a search alone is paged by search_pages). A
# group's members change with an audit event each, or with the customer's updated_at.
UNSTAMPED_FILTERS = ("q", "import", "warnings")

_kept: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
_lock = Lock()


def stampable(args) -> bool:
    return not any(args.get(key) for key in UNSTAMPED_FILTERS)


def register_stamp() -> tuple:
    """Changes whenever a customer is added, changed, trashed, restored or erased: five index
    look-ups (each its own query: two maxima in one select would scan a whole index). On
    PostgreSQL also when a transaction that has written, and began before the newest change,
    ends: it may commit customers stamped before that change, which move none of the five
    (_oldest_writer: read before the maxima, compared with them after)."""
    writers = _oldest_writer()
    live = Customer.deleted_at.is_(None)
    stamp = (db.engine.url.render_as_string(), *db.session.execute(select(
        select(func.max(Customer.id)).scalar_subquery(),
        select(func.max(Customer.updated_at)).where(live).scalar_subquery(),
        select(func.max(Customer.deleted_at)).scalar_subquery(),
        select(func.count()).select_from(Customer).where(Customer.deleted_at.is_not(None))
        .scalar_subquery(),
        select(func.max(AuditEvent.id)).scalar_subquery(),
    )).one())
    newest = stamp[2]
    if writers is not True and (writers is None or newest is None or writers >= newest):
        writers = None  # (what it commits is stamped after the newest: a maximum moves)
    return (*stamp, writers)


def _oldest_writer() -> Any:
    """On PostgreSQL, when the oldest transaction of this database that has written and is
    still open began (None when none is; True when another role's sessions are hidden from
    this one): whatever it commits later carries stamps from about then on, and its end must
    change the stamp even when it moves no maximum. pg_stat_activity is read afresh (it is
    read once a transaction and shown so until it ends). None on SQLite: its writers take
    turns at one lock."""
    if db.engine.dialect.name != "postgresql":
        return None
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    hidden, oldest = db.session.execute(text(
        "SELECT coalesce(bool_or(query = '<insufficient privilege>'), false), "
        "min(xact_start) FILTER (WHERE backend_xid IS NOT NULL) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).one()
    return True if hidden else oldest


# The tables the import filters read (`import`: the undo record; `warnings`: the rows' results).
# Their rows are only ever added or deleted, never changed: each change moves their highest id
# or their count.
IMPORT_TABLES = ("import_changes", "import_row_results")


def import_filtered(args) -> bool:
    """A list filtered by an import or its warnings, and not searched."""
    return not args.get("q") and any(args.get(key) for key in ("import", "warnings"))


def imports_stamp() -> tuple:
    """The register's stamp and the import tables' highest ids and counts: changes whenever a
    list filtered by an import or its warnings may (two index look-ups and two index-only
    counts, a few milliseconds where counting the list reads a customer per warned row)."""
    tables = [Customer.metadata.tables[name] for name in IMPORT_TABLES]
    parts = [part for table in tables for part in (
        select(func.max(table.c.id)).scalar_subquery(),
        select(func.count()).select_from(table).scalar_subquery())]
    return (*register_stamp(), *db.session.execute(select(*parts)).one())


def filters_key(args) -> tuple:
    return tuple(sorted((key, tuple(args.getlist(key))) for key in args if key != "sort"))


def kept(kind: str, args, stamp: tuple, compute):
    """compute(), remembered for these filters while the stamp stays the same."""
    key = (kind, filters_key(args), args.get("sort") or "")
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


def kept_before(kind: str, args, stamp: tuple) -> Any:
    """What kept() remembered for these filters at another stamp than this one (None when
    nothing or this stamp's): the list was asked for before, and the register changed since."""
    with _lock:
        found = _kept.get((kind, filters_key(args), args.get("sort") or ""))
    return found[1] if found is not None and found[0] != stamp else None


def after(columns: tuple, key: tuple, descending: bool):
    """The condition "after the customer with sort key `key`" in this order. Only the first
    column can be NULL (a customer without a number); NULLs sort first on SQLite and last on
    PostgreSQL, and compare to nothing, so they are placed by hand."""
    first, rest = columns[0], tuple_(*columns[1:])
    nulls_follow = descending if db.engine.dialect.name == "sqlite" else not descending
    if key[0] is None:
        rest_key = tuple_(*key[1:])
        among_nulls = and_(first.is_(None), rest < rest_key if descending else rest > rest_key)
        return among_nulls if nulls_follow else or_(among_nulls, first.is_not(None))
    row, anchor = tuple_(*columns), tuple_(*key)
    condition = row < anchor if descending else row > anchor
    # Only when there are such NULLs: the OR keeps the index from serving the range.
    if first.nullable and nulls_follow and db.session.scalar(select(
            select(Customer.id).where(first.is_(None), Customer.deleted_at.is_(None)).exists())):
        condition = or_(condition, first.is_(None))
    return condition
