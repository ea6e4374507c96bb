"""The customers written since a stamp of the register, read once per stamp by each process.

What this process keeps of the register (a list's segments: positions.py; a search's matches:
kept_searches.py) is kept as of a stamp (paging.register_stamp) and moved along, at a later
stamp, by the customers written since: a new id, a recent `updated_at` or `deleted_at`, an
audit event on a customer (changed_since).

While an import writes thousands of customers a second, every kept list and search of every
web process would read the same new customers again, each from the stamp it was last moved
at. On PostgreSQL a process reads them once instead: its *feed* holds the steps between the
stamps it has read (the customers each step changed), and a kept list or search moves along
by the steps since its own stamp, joined. A statement there sees every commit made before it
began, so whatever reads the customers of a step (another thread's session read the step)
sees them at least as they were then. A SQLite session sees the database as its transaction
first read it, which may be older than a step another thread read: there each kept list and
search reads its own changes, in its own session.
"""

import weakref
from collections import Counter
from datetime import timedelta
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import String, cast, literal, or_, select, true, union_all

from ..audit import AuditEvent
from ..extensions import db
from . import paging
from .models import Customer

# More changed customers than this since a search's matches were kept: read anew instead.
REPAIR_AT_MOST = 20_000
# A change committed after a look at the register may carry an `updated_at` (or `deleted_at`)
# older than the newest that look saw: its transaction stamped it, then committed later. So
# each look reads again the customers stamped a while before the newest the last stamp saw,
# and remembers what it found there (its window): a later look moves only those whose stamp is
# new to it. On PostgreSQL the window starts CLOCK_MARGIN (the app's and the database's
# clocks, the moment between stamping a row and writing it) before the newest, or before the
# oldest transaction then open that had written (the stamp holds it: paging.register_stamp);
# SQLite says nothing of its writers, and one may wait its busy timeout (30 s) for the lock:
# LATE_COMMIT.
LATE_COMMIT = timedelta(minutes=1)
CLOCK_MARGIN = timedelta(seconds=2)
# More customers than this in a look's window (an import writes thousands a second): placed
# anew instead.
WINDOW_AT_MOST = 60_000
# The feed's steps hold this many customers at most, in all (the oldest steps are forgotten
# first; what was kept at a forgotten stamp reads its own changes): more than any kept list
# moves at once (positions.MOVE_AT_MOST). And this many steps at most.
FEED_AT_MOST = 50_000
FEED_STEPS = 400

# What a look found in its window of stamps: (part, customer id) -> the stamp it had.
Window = dict[tuple[int, int], Any]


class Changes:
    """What a look found: the customers written (None: too many to move one by one, or the
    register went back), its window, and whether a group was changed (a filter by group then
    cannot follow the changes by customer)."""

    def __init__(self, changed: set[int] | None, window: Window, grouped: bool,
                 back: bool = False):
        self.changed, self.window, self.grouped, self.back = changed, window, grouped, back


def changed_since(old: tuple, new: tuple, grouped: bool, seen: Window | None = None,
                  at_most: int | None = None) -> tuple[set[int] | None, Window]:
    """(The customers written since the stamp `old`, or None when there are too many to move
    one by one, the register went back (another database under the same address) or, for a
    list filtered by group (`grouped`), a group changed; this look's window.) What the last
    look at `old` found unchanged in its window (`seen`) is left out. Too many: more than
    `at_most` (REPAIR_AT_MOST), or than WINDOW_AT_MOST in a window."""
    found = read_changes(old, new, seen, REPAIR_AT_MOST if at_most is None else at_most)
    if found.changed is None or grouped and found.grouped:
        return None, {}
    return found.changed, found.window


def read_changes(old: tuple, new: tuple, seen: Window | None, at_most: int) -> Changes:
    """changed_since's look: one statement of four index look-ups, each limited (a round
    trip each cost the page after a change more than the look-ups did)."""
    _, max_id, latest, deleted, _, audited, writers = old
    if new[1] is not None and max_id is not None and new[1] < max_id or (
            (new[5] or 0) < (audited or 0)):
        return Changes(None, {}, False, back=True)
    # A customer added since (an import adds thousands a second) is read once, as new: not
    # again in the windows, nor by the event of its creation. (`id + 0`: a range of ids beside
    # a range of stamps drew SQLite's planner to the primary key, a walk over the whole
    # register, 270 ms at a million, instead of the index of the stamps.)
    known = Customer.id + 0 <= max_id if max_id is not None else true()
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
            found_per_part[part] > WINDOW_AT_MOST for part in (1, 2)):
        return Changes(None, {}, False)
    grouped = any(kind == "group" for part, kind, _, _ in rows if part == len(limited))
    seen = seen or {}
    changed = {object_id for part, kind, object_id, moment in rows
               if kind == "customer" and object_id is not None
               and (part not in (1, 2) or seen.get((part, object_id)) != moment)}
    if len(changed) > at_most:
        return Changes(None, {}, grouped)
    # (A new customer's stamp is kept as the next look's window will show it, updated.)
    return Changes(changed, {(part or 1, object_id): moment for part, _, object_id, moment
                             in rows if part in (0, 1, 2)}, grouped)


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


def caught_up(old: tuple, stamp: tuple, grouped: bool, seen: Window,
              at_most: int | None = None) -> tuple[set[int] | None, Window, tuple]:
    """(The customers written since `old`, as changed_since; the window; the stamp they reach:
    `stamp` or a later one.) On PostgreSQL through the process's feed (see the module's note).
    A request may have read its stamp before another thread or process moved what was kept at
    `old` past it: the register seems to have gone back. Then the stamp is read again, and the
    changes are taken up to the register as it is now (none when it is still `old`), not the
    whole read again."""
    at_most = REPAIR_AT_MOST if at_most is None else at_most
    feed = _feed() if db.engine.dialect.name == "postgresql" else None
    if feed is not None:
        found = feed.joined(old, stamp, grouped, seen, at_most)
        if found is not None:
            return found
        stamp, window = feed.last(stamp)
    changed, own = changed_since(old, stamp, grouped, seen, at_most)
    if changed is None:
        now = paging.register_stamp()
        if now == old:
            return set(), seen, old
        stamp, window = feed.last(now) if feed is not None else (now, {})
        changed, own = changed_since(old, stamp, grouped, seen, at_most)
    # (A look after the feed's last one sees all it saw: the feed's window holds for it.)
    return changed, own if feed is None or changed is None else window, stamp


def starting_point(stamp: tuple) -> tuple[tuple, Window]:
    """The stamp and the window to keep a list at that is built now, read before the build
    (which then sees at least all they saw): on PostgreSQL the feed's last stamp, at or after
    `stamp`, and its window, so that the list moves along by the feed from its first look;
    on SQLite the window of `stamp` (the build reads in the same transaction). Without it a
    list's first look took every customer of the window as changed: the customers an import
    wrote in the moments before the stamp, thousands of them."""
    if db.engine.dialect.name == "postgresql":
        return _feed().last(stamp)
    found = read_changes(stamp, stamp, None, REPAIR_AT_MOST)
    return stamp, found.window if found.changed is not None else {}


def follows_cheaper(stamp: tuple, window: Window) -> bool:
    """Whether what was kept at `stamp` with this window moves along by the process's feed
    (PostgreSQL) with no more customers to test again than a copy kept elsewhere (Redis) would
    have: that one reads its own changes, its window whole (at least as many as the feed's)."""
    if db.engine.dialect.name != "postgresql":
        return False
    feed = _feed()
    with feed.lock:
        index = feed.held_at(stamp, window)
        if index is None or any(changed is None for changed, _ in feed.steps[index:]):
            return False
        return sum(len(changed or ()) for changed, _ in feed.steps[index:]) <= len(feed.window)


class FeedWindow(dict):
    """A window the feed read: known again by identity (see Feed.joined)."""

    __slots__ = ("__weakref__",)


class Feed:
    """The steps between the stamps this process has read (PostgreSQL): `stamps[i + 1]` was
    reached from `stamps[i]` by `steps[i]` (its customers, None for too many; whether a group
    changed). The window of each stamp is held by what was moved along to it (`windows`: weak
    references; the feed holds the last one): what holds a stamp's window has taken up every
    change the feed read up to that stamp, and moves along by the steps since. What was kept
    otherwise (built, taken from Redis) reads its own changes, once, up to the feed's last
    stamp: read after the feed's, that look sees all the feed's window saw, and it takes it."""

    def __init__(self) -> None:
        self.stamps: list[tuple] = []
        self.steps: list[tuple[frozenset[int] | None, bool]] = []
        self.windows: list[weakref.ref[FeedWindow]] = []
        self.window = FeedWindow()
        self.held = 0  # customers in all the steps
        self.lock = Lock()

    def joined(self, old: tuple, stamp: tuple, grouped: bool, seen: Window,
               at_most: int) -> tuple[set[int] | None, Window, tuple] | None:
        """The steps from `old` to the feed's last stamp joined (reaching `stamp` first), as
        caught_up answers; None where `seen` is not the feed's window of `old`."""
        with self.lock:
            last = self._reach(stamp)
            index = self.held_at(old, seen)
            if index is None:
                return None
            changed = self._joined(index, grouped, at_most)
            return changed, {} if changed is None else self.window, last

    def held_at(self, stamp: tuple, window: Window) -> int | None:
        """Where the feed holds `stamp` with this window as its own (the caller holds the
        lock); None where it does not."""
        return next((index for index in range(len(self.stamps) - 1, -1, -1)
                     if self.stamps[index] == stamp and self.windows[index]() is window), None)

    def last(self, stamp: tuple) -> tuple[tuple, Window]:
        """The feed's last stamp after reaching `stamp`, and its window."""
        with self.lock:
            return self._reach(stamp), self.window

    def _reach(self, stamp: tuple) -> tuple:
        """The feed's last stamp, after reading the step to `stamp` where the feed holds none
        (to the register as it is now where `stamp` is older than the last)."""
        if not self.stamps:
            found = read_changes(stamp, stamp, None, FEED_AT_MOST)
            self._add(stamp, None, found)
            return stamp
        if stamp in self.stamps:
            return self.stamps[-1]
        last = self.stamps[-1]
        found = read_changes(last, stamp, self.window, FEED_AT_MOST)
        if found.back:
            stamp = paging.register_stamp()
            if stamp in self.stamps:
                return last
            found = read_changes(last, stamp, self.window, FEED_AT_MOST)
        self._add(stamp, found.changed, found)
        return stamp

    def _add(self, stamp: tuple, changed: set[int] | None, found: Changes) -> None:
        if self.stamps:
            self.steps.append((None if changed is None else frozenset(changed), found.grouped))
            self.held += len(changed or ())
        self.window = FeedWindow(found.window)
        self.stamps.append(stamp)
        self.windows.append(weakref.ref(self.window))
        while len(self.steps) > FEED_STEPS or self.held > FEED_AT_MOST and len(self.steps) > 1:
            forgotten, _ = self.steps.pop(0)
            self.stamps.pop(0)
            self.windows.pop(0)
            self.held -= len(forgotten or ())

    def _joined(self, start: int, grouped: bool, at_most: int) -> set[int] | None:
        """The customers of the steps from stamps[start] to the last; None where one of them
        was too many, a group changed for a list filtered by group, or more than `at_most`."""
        steps = self.steps[start:]
        if any(changed is None or grouped and group for changed, group in steps) or sum(
                len(changed or ()) for changed, _ in steps) > 2 * at_most:
            return None
        joined: set[int] = set().union(*(changed for changed, _ in steps if changed))
        return None if len(joined) > at_most else joined


_feeds: "WeakKeyDictionary[Any, Feed]" = WeakKeyDictionary()
_feeds_lock = Lock()


def _feed() -> Feed:
    with _feeds_lock:
        feed = _feeds.get(db.engine)
        if feed is None:
            feed = _feeds[db.engine] = Feed()
        return feed
