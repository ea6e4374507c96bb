"""Where every customer of a list stands, kept across changes: the deep pages' segments.

A deep page of a list (its filters and its order) starts in a *segment*: the list is cut into
runs of about `every` customers, each known by its upper sort key and its count, and every
customer's segment is remembered (an array indexed by id). A page at offset N starts after the
upper key of the segment before the one that holds position N, with a short offset: an index
range and some `every` index entries, whatever N is.

A change does not throw this away. The stamp (paging.register_stamp) says that something
changed; the customers that did are found by the same index look-ups (a new id, a recent
`updated_at`, a recent `deleted_at`, an audit event on a customer) and each is moved: out of
the segment the array remembers, into the one its current sort key falls in (a bisection over
the upper keys), or out of the list when it no longer matches. The counts stay exact, so every
page holds exactly what an offset would give. A segment grown to twice its size is cut again
from the database (its rows are those between the upper keys that bound it). A look moves only
the customers new to it: an import writing thousands a second is followed one look at a time.
More than MOVE_AT_MOST customers to move at once build the list anew, as does a database
whose ordering of text Python cannot repeat (a PostgreSQL collation other than C): keys are
compared here as the database does.
A search of longer words places its pages through the whole register's segments as well
(search_segments), counting its matches in each.
"""

from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select, text

from ..batching import batched
from ..database import among
from ..extensions import db
from . import changes, paging
from .models import Customer

# A list's positions move along by this many changed customers at most: a repair costs some
# 10 µs of this process a customer, placing a million anew two seconds of the server's (a list
# looked at every 20 s under an import of 2,000 rows a second has 40,000 to move). More: the
# list is built anew.
MOVE_AT_MOST = 50_000
# Every sort order both ways, and a dozen filtered lists: some 2 MB each at a million.
KEPT_PER_DATABASE = 24
# Segment numbers are kept in two bytes; past this many (a repair adds at most MOVE_AT_MOST)
# the list is placed anew.
NUMBERED_AT_MOST = 15_000
# Words that every collation but C (code point order) puts in another order.
COLLATION_SAMPLE = ["b", "A", "a", "B", "é", "e", "f", "_x", " y", "Z", "ß", "ss", "Ł", "M"]

# members_total's lists: no order of their own (by id), one segment.
MEMBERS, ONE_SEGMENT = "members", 2**31

_lists: "WeakKeyDictionary[Any, OrderedDict[tuple, Positions]]" = WeakKeyDictionary()
# A list is built by one thread at a time (the same lock for every list whose key hashes alike).
_building = [Lock() for _ in range(64)]
_byte_order: "WeakKeyDictionary[Any, bool]" = WeakKeyDictionary()
_lock = Lock()


class Positions:
    """The segments of one list: `uppers[j]` the sort key of segment j's last customer when it
    was cut (None for the last segment: open to the end), `counts[j]` its customers now."""

    def __init__(self, columns: tuple, descending: bool, every: int, stamp: tuple):
        self.columns, self.descending, self.every, self.stamp = columns, descending, every, stamp
        # Keys are compared here only where the database orders text as Python does.
        self.movable = movable(columns)
        self.uppers: list[tuple | None] = []
        self.counts: list[int] = []
        self.names: list[int] = []  # each segment's lasting number, as `where` holds it
        self.where = array("H")  # customer id -> its segment's number; 0: not in the list
        self.numbered = 0
        self.lock = Lock()
        # What the last look found in its window.
        self.window: changes.Window = {}

    @property
    def total(self) -> int:
        return sum(self.counts)

    def _name(self) -> int:
        self.numbered += 1
        return self.numbered

    def _mark(self, ids, name: int) -> None:
        if ids and max(ids) >= len(self.where):
            self.where.frombytes(bytes(2 * (max(ids) + 1 - len(self.where))))
        for customer_id in ids:
            self.where[customer_id] = name

    def cut(self, ids: list[int], select_of, last_upper: tuple | None):
        """Segments of `every` from these ids (in order): each but the last ends at its last
        customer's sort key (read here), the last one at `last_upper`."""
        made = []
        chunks = list(batched(ids, self.every))
        keys = _keys_of(select_of, self.columns, [chunk[-1] for chunk in chunks[:-1]])
        for number, chunk in enumerate(chunks, 1):
            name = self._name()
            self._mark(chunk, name)
            upper = keys[chunk[-1]] if number < len(chunks) else last_upper
            made.append((upper, len(chunk), name))
        return made

    def locate(self, offset: int) -> tuple[tuple | None, int]:
        """(the upper key to start after, or None from the start; the offset after it)."""
        before = 0
        for index, count in enumerate(self.counts):
            if offset < before + count:
                return (self.uppers[index - 1] if index else None), offset - before
            before += count
        return (self.uppers[-2] if len(self.uppers) > 1 else None), offset - before + (
            self.counts[-1] if self.counts else 0)

    def segment_finder(self) -> Callable[[tuple], int]:
        """index(key): the index of the segment a customer with this sort key belongs in: the
        first whose upper key it does not pass. The upper keys are ranked once, ascending, and
        compared as plain tuples (a repair places thousands at an import's pace)."""
        ranked = _ranking()
        uppers = [ranked(upper) for upper in self.uppers if upper is not None]
        if not self.descending:
            return lambda key: bisect_left(uppers, ranked(key))
        rising, count = uppers[::-1], len(uppers)
        return lambda key: count - bisect_right(rising, ranked(key))


def movable(columns: tuple) -> bool:
    """Whether positions in an order of these columns are moved along with changes (keys are
    compared here only where the database orders text as Python does); else they are placed
    anew after every change."""
    return not any(column.type.python_type is str for column in columns) or _byte_ordered()


def _byte_ordered() -> bool:
    """Whether the database orders text as Python does (by code point): SQLite's BINARY
    collation does; PostgreSQL does under the C collation, which a sample of words tells."""
    if db.engine.dialect.name == "sqlite":
        return True
    with _lock:
        known = _byte_order.get(db.engine)
    if known is not None:
        return known
    found = list(db.session.scalars(
        text("SELECT word FROM unnest(CAST(:words AS text[])) AS word ORDER BY word"),
        {"words": COLLATION_SAMPLE}))
    with _lock:
        _byte_order[db.engine] = found == sorted(COLLATION_SAMPLE)
    return found == sorted(COLLATION_SAMPLE)


def _ranking() -> Callable[[tuple], tuple]:
    """A sort key made a tuple that Python orders as the database orders the key ascending:
    NULL (only ever the first column) before every value on SQLite, after every value on
    PostgreSQL."""
    null_rank = 0 if db.engine.dialect.name == "sqlite" else 2

    def ranked(key: tuple) -> tuple:
        return ((null_rank, "") if key[0] is None else (1, key[0]), *key[1:])
    return ranked


def _comparison(descending: bool) -> Callable[[tuple, tuple], int]:
    """-1, 0 or 1 as the database orders two sort keys of the list (see _ranking)."""
    ranked = _ranking()

    def compare(left: tuple, right: tuple) -> int:
        a, b = ranked(left), ranked(right)
        result = (a > b) - (a < b)
        return -result if descending else result
    return compare


def _keys_of(select_of, columns: tuple, ids: list[int]) -> dict[int, tuple]:
    keys = {}
    for chunk in batched(ids, 5000):
        for row in db.session.execute(select(Customer.id, *columns).where(
                among(Customer.id, chunk, db.engine.dialect.name))):
            keys[row[0]] = tuple(row[1:])
    return keys


def _ids_in_order(query) -> list[int]:
    """The ids a select of one column gives, in its order. A statement without parameters (the
    whole register's list) is read through the driver's cursor: a million ids in some 0.2 s of
    this process's CPU on PostgreSQL, 0.4 s on SQLite, against 0.7 to 1.0 s as ORM rows. One
    with parameters (a filter's values) goes through SQLAlchemy, which converts them."""
    compiled = query.compile(dialect=db.engine.dialect)
    sql = str(compiled)
    if compiled.params or "%" in sql:  # (psycopg would read a doubled % of the text as is)
        return list(db.session.scalars(query))
    driver = db.session.connection().connection.driver_connection
    assert driver is not None  # checked out for this session
    cursor = driver.cursor()
    try:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def _build(select_of, columns: tuple, descending: bool, every: int, stamp: tuple) -> Positions:
    order = [column.desc() if descending else column.asc() for column in columns]
    ids = _ids_in_order(select_of(Customer.id).order_by(*order))
    positions = Positions(columns, descending, every, stamp)
    made = positions.cut(ids, select_of, None)
    positions.uppers = [upper for upper, _, _ in made] or [None]
    positions.counts = [count for _, count, _ in made] or [0]
    positions.names = [name for _, _, name in made] or [positions._name()]
    return positions


def _repair(positions: Positions, select_of, changed: set[int]) -> None:
    """Move each changed customer out of the segment it was in and into the one it is in now."""
    ids = sorted(changed)
    now: dict[int, tuple] = {}
    for chunk in batched(ids, 5000):
        for row in db.session.execute(select_of(Customer.id, *positions.columns)
                                      .where(among(Customer.id, chunk, db.engine.dialect.name))):
            now[row[0]] = tuple(row[1:])
    index_of = {name: index for index, name in enumerate(positions.names)}
    segment_of = positions.segment_finder()
    for customer_id in ids:
        was = positions.where[customer_id] if customer_id < len(positions.where) else 0
        if customer_id in now:
            index = segment_of(now[customer_id])
            name = positions.names[index]
        else:
            index, name = None, 0
        if was == name:
            continue
        # A segment cut again since (_recut) is counted from what the database held then: a
        # customer who had left it by that moment still names it, and is counted nowhere.
        if was in index_of:
            positions.counts[index_of[was]] -= 1
        if index is not None:
            positions.counts[index] += 1
        positions._mark([customer_id], name)
    for index in reversed(range(len(positions.counts))):
        if positions.counts[index] > 2 * positions.every:
            _recut(positions, select_of, index)


def _recut(positions: Positions, select_of, index: int) -> None:
    """Cut a grown segment again from the customers the database holds between the keys that
    bound it. Changes committed since the look that grew it may have moved customers in or
    out: one who came in from another segment is taken from that one's count, and one who
    left still names the old segment and is counted nowhere (_repair moves him when a look
    finds him)."""
    columns, descending = positions.columns, positions.descending
    order = [column.desc() if descending else column.asc() for column in columns]
    upper = positions.uppers[index]
    compare = _comparison(descending)
    lower = positions.uppers[index - 1] if index else None
    ids: list[int] = []
    while True:  # (in steps: keys are compared here as the database orders them, NULLs too)
        query = select_of(Customer.id, *columns)
        if lower is not None:
            query = query.where(paging.after(columns, lower, descending))
        step = positions.counts[index] + positions.every
        rows = [(row[0], tuple(row[1:]))
                for row in db.session.execute(query.order_by(*order).limit(step))]
        inside = [customer_id for customer_id, key in rows
                  if upper is None or compare(key, upper) <= 0]
        ids.extend(inside)
        if len(inside) < len(rows) or len(rows) < step:
            break
        lower = rows[-1][1]
    old = positions.names[index]
    index_of = {name: number for number, name in enumerate(positions.names)}
    for customer_id in ids:
        was = positions.where[customer_id] if customer_id < len(positions.where) else 0
        if was != old and was in index_of:
            positions.counts[index_of[was]] -= 1
    made = positions.cut(ids, select_of, upper)
    positions.uppers[index:index + 1] = [upper for upper, _, _ in made]
    positions.counts[index:index + 1] = [count for _, count, _ in made]
    positions.names[index:index + 1] = [name for _, _, name in made]


def _kept_lists() -> "OrderedDict[tuple, Positions]":
    with _lock:
        return _lists.setdefault(db.engine, OrderedDict())


def positions_of(filters_key: tuple, sort: str, select_of, columns: tuple, descending: bool,
                 every: int, stamp: tuple, grouped: bool) -> Positions:
    """The list's positions as of `stamp`: kept ones moved along by the changes since, or
    built (a walk of the list's ids in its order, cut every `every`). One thread of the
    process builds a list while the others that need it wait for it (a build reads the whole
    list: at a million customers, seconds of the server's time)."""
    kept = _kept_lists()
    key = (filters_key, sort, descending)
    found = _brought_to(kept, key, stamp, select_of, grouped)
    if found is not None:
        return found
    with _building[hash(key) % len(_building)]:
        found = _brought_to(kept, key, stamp, select_of, grouped)  # (built while this waited?)
        if found is not None:
            return found
        stamp, window = changes.starting_point(stamp)
        positions = _build(select_of, columns, descending, every, stamp)
        positions.window = window
        with _lock:
            kept[key] = positions
            kept.move_to_end(key)
            while len(kept) > KEPT_PER_DATABASE:
                del kept[_least_needed(kept)]
    return positions


def _brought_to(kept: "OrderedDict[tuple, Positions]", key: tuple, stamp: tuple, select_of,
                grouped: bool) -> Positions | None:
    """The kept positions of the list moved along to `stamp`; None when there are none, or
    they cannot be moved (too many changes: built anew)."""
    with _lock:
        positions = kept.get(key)
        if positions is not None:
            kept.move_to_end(key)
    if positions is None:
        return None
    with positions.lock:
        if positions.stamp == stamp:
            return positions
        if not positions.movable or positions.numbered >= NUMBERED_AT_MOST:
            return None
        changed, window, stamp = changes.caught_up(positions.stamp, stamp, grouped,
                                                   positions.window, MOVE_AT_MOST)
        if changed is None:
            return None
        positions.window = window
        _repair(positions, select_of, changed)
        positions.stamp = stamp
        return positions


def members_total(filters_key: tuple, stamp: tuple, select_of, grouped: bool) -> int:
    """The count of a filtered list from its members kept and moved along like a list's
    segments (read once in id order, one segment): for a list counted again and again while
    the register changes (an import), where each count would read every match."""
    return positions_of(filters_key, MEMBERS, select_of, (Customer.id,), False, ONE_SEGMENT,
                        stamp, grouped).total


def _least_needed(kept: "OrderedDict[tuple, Positions]") -> tuple:
    """The list to forget: the least recently used filtered one while there is one, since
    the unfiltered list of each order also places every search sorted by it."""
    return next((key for key in kept if key[0]), next(iter(kept)))


def kept_total(filters_key: tuple, stamp: tuple, select_of, grouped: bool) -> int | None:
    """The list's count from any kept positions of it (any order), brought up to `stamp`."""
    kept = _kept_lists()
    with _lock:
        found = next((key for key in reversed(kept) if key[0] == filters_key), None)
        positions = kept.get(found) if found else None
    if found is None or positions is None or not (positions.movable
                                                  or positions.stamp == stamp):
        return None  # counting costs less than placing the whole list anew
    _, sort, descending = found
    return positions_of(filters_key, sort, select_of, positions.columns, descending,
                        positions.every, stamp, grouped).total
