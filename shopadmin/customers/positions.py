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
from collections import Counter, OrderedDict
from collections.abc import Callable
from datetime import timedelta
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import String, cast, literal, or_, select, text, true, union_all

from ..audit import AuditEvent
from ..batching import batched
from ..database import among
from ..extensions import db
from . import paging
from .models import Customer

# More changed customers than this since the list was placed: built anew instead.
REPAIR_AT_MOST = 20_000
# A list's positions move more: a repair costs some 10 µs of this process a customer, placing
# a million anew two seconds of the server's (a list looked at every 20 s under an import of
# 2,000 rows a second has 40,000 to move).
MOVE_AT_MOST = 50_000
# A change committed after a look at the register may carry an `updated_at` (or `deleted_at`)
# older than the newest that look saw: its transaction stamped it, then committed later. So
# each look reads again the customers stamped a while before the newest the last stamp saw,
# and remembers what it found there (`Positions.window`): a later look moves only those whose
# stamp is new to it. On PostgreSQL the window starts CLOCK_MARGIN (the app's and the
# database's clocks, the moment between stamping a row and writing it) before the newest, or
# before the oldest transaction then open that had written (the stamp holds it:
# paging.register_stamp); SQLite says nothing of its writers, and one may wait its busy
# timeout (30 s) for the lock: LATE_COMMIT.
LATE_COMMIT = timedelta(minutes=1)
CLOCK_MARGIN = timedelta(seconds=2)
# More customers than this in a look's window (an import writes thousands a second): placed
# anew instead.
WINDOW_AT_MOST = 60_000
# Every sort order both ways, and a dozen filtered lists: some 2 MB each at a million.
KEPT_PER_DATABASE = 24
# Segment numbers are kept in two bytes; past this many (a repair adds at most MOVE_AT_MOST)
# the list is placed anew.
NUMBERED_AT_MOST = 15_000
# What a look found in its window of stamps: (part, customer id) -> the stamp it had.
Window = dict[tuple[int, int], Any]
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
        self.window: Window = {}

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


def changed_since(old: tuple, new: tuple, grouped: bool, seen: Window | None = None,
                  at_most: int | None = None) -> tuple[set[int] | None, Window]:
    """(The customers written since the stamp `old`, or None when there are too many to move
    one by one (or the register went back: another database under the same address); this
    look's window.) One statement of four index look-ups, each limited (a round trip each cost
    the page after a change more than the look-ups did). What the last look at `old` found
    unchanged in its window (`seen`) is left out. Too many: more than `at_most`
    (REPAIR_AT_MOST), or than WINDOW_AT_MOST in a window."""
    _, max_id, latest, deleted, _, audited, writers = old
    at_most = REPAIR_AT_MOST if at_most is None else at_most
    if new[1] is not None and max_id is not None and new[1] < max_id or (
            (new[5] or 0) < (audited or 0)):
        return None, {}
    # A customer added since (an import adds thousands a second) is read once, as new: not
    # again in the windows, nor by the event of its creation.
    known = Customer.id <= max_id if max_id is not None else true()
    live = Customer.deleted_at.is_(None)
    queries = [select(Customer.id, _moment(Customer.updated_at))
               .where(Customer.id > (max_id or 0)).limit(at_most + 1)]
    queries.append(select(Customer.id, _moment(Customer.updated_at)).where(live)
                   if latest is None else select(Customer.id, _moment(Customer.updated_at))
                   .where(live, known, Customer.updated_at >= _window_start(latest, writers)))
    queries.append(
        select(Customer.id, _moment(Customer.deleted_at)).where(Customer.deleted_at.is_not(None))
        if deleted is None else select(Customer.id, _moment(Customer.deleted_at)).where(
            known, Customer.deleted_at >= _window_start(deleted, writers)))
    queries[1:] = [query.limit(WINDOW_AT_MOST + 1) for query in queries[1:]]
    limited = [query.subquery() for query in queries]
    created_known = AuditEvent.object_id <= max_id if max_id is not None else true()
    events = select(AuditEvent.object_type, AuditEvent.object_id).where(
        AuditEvent.id > (audited or 0),
        or_(AuditEvent.action != "customer.created", created_known)).limit(at_most + 1).subquery()
    rows = db.session.execute(union_all(
        *(select(literal(number).label("part"), literal("customer").label("kind"),
                 found.c.id.label("id"), list(found.c)[1].label("moment"))
          for number, found in enumerate(limited)),
        select(literal(len(limited)), events.c.object_type, events.c.object_id,
               null_moment()))).all()
    found_per_part = Counter(part for part, _, _, _ in rows)
    if found_per_part[0] > at_most or found_per_part[len(limited)] > at_most or any(
            found_per_part[part] > WINDOW_AT_MOST for part in (1, 2)) or (
            grouped and any(kind == "group" for part, kind, _, _ in rows if part == len(limited))):
        return None, {}
    seen = seen or {}
    changed = {object_id for part, kind, object_id, moment in rows
               if kind == "customer" and object_id is not None
               and (part not in (1, 2) or seen.get((part, object_id)) != moment)}
    if len(changed) > at_most:
        return None, {}
    # (A new customer's stamp is kept as the next look's window will show it, updated.)
    return changed, {(part or 1, object_id): moment for part, _, object_id, moment in rows
                     if part in (0, 1, 2)}


def _moment(column):
    """A stamp as the database's text: compared for equality only, and a window's thousands
    are read without making a datetime of each."""
    return cast(column, String)


def null_moment():
    return literal(None, type_=String).label("moment")


def _window_start(newest, writers):
    """Where a look's window of stamps starts: CLOCK_MARGIN before the newest stamp the last
    stamp saw, or before the oldest transaction then open that had written, when that began
    earlier (`writers`, the stamp's last part; PostgreSQL); LATE_COMMIT before the newest where
    the database does not say (SQLite, another role's sessions hidden)."""
    if db.engine.dialect.name != "postgresql" or writers is True:
        return newest - LATE_COMMIT
    return min(newest, writers or newest) - CLOCK_MARGIN


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
        positions = _build(select_of, columns, descending, every, stamp)
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
        changed, window, stamp = caught_up(positions.stamp, stamp, grouped, positions.window,
                                           MOVE_AT_MOST)
        if changed is None:
            return None
        positions.window = window
        _repair(positions, select_of, changed)
        positions.stamp = stamp
        return positions


def caught_up(old: tuple, stamp: tuple, grouped: bool, seen: Window,
              at_most: int | None = None) -> tuple[set[int] | None, Window, tuple]:
    """changed_since(old, stamp), and the stamp the changes reach. A request may have read its
    stamp before another thread or process moved what was kept at `old` past it: the register
    seems to have gone back (None). Then the stamp is read again, and the changes are taken up
    to the register as it is now (none when it is still `old`), not the whole read again."""
    changed, window = changed_since(old, stamp, grouped, seen, at_most)
    if changed is None:
        stamp = paging.register_stamp()
        if stamp == old:
            return set(), seen, stamp
        changed, window = changed_since(old, stamp, grouped, seen, at_most)
    return changed, window, stamp


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
