"""A search's matches kept between requests, moved along with the register's changes.

Listing the matches of a word that tens of thousands of customers match costs PostgreSQL a
block of the search index's table for each match and a half ("lodz" at a million: some 65 ms
of the server's CPU; see search_segments), however few the page shows. The matches do not
depend on the page or the sort order, so a search keeps them: in this process, and where
REDIS_URL is set also in Redis, where every web process (of this machine or another) finds
them. They are kept with the register's stamp (paging.register_stamp) they were read at; at a
later stamp the customers written since (changes.caught_up, as the list's segments are
moved) are tested again by id, or, after more changes than that moves, the matches are read
anew. Paging through a search or sorting it another way then reads none of them again.
"""

import json
import logging
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from hashlib import sha256
from threading import Lock
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary, ref

from flask import current_app

from ..extensions import db
from . import changes, positions
from .search import matching_among

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

# The searches this process keeps, and their matches in all (6 bytes each with their
# segments: some 250 kB for the 41,765 of "lodz", 12 MB for 2,000,000).
KEPT_SEARCHES, KEPT_MATCHES = 32, 2_000_000
# Redis: how long a search's matches are kept there after they were last written, and the
# most matches it keeps of one search (4 bytes each).
SHARED_SECONDS, SHARED_AT_MOST = 15 * 60, 1_000_000

_kept: "WeakKeyDictionary[Any, OrderedDict[tuple, Matches]]" = WeakKeyDictionary()
_kept_lock = Lock()
_clients: dict[str, Any] = {}
# After Redis failed to answer, this process leaves it alone for a while (a search must not
# wait for its timeouts request after request).
AWAY_SECONDS = 30.0
_away_until = [0.0]


class Matches:
    """A search's matches as of a stamp of the register (`ids`: the trash's too), and where
    they stand in the one sort order they were last paged in (see placed_in)."""

    def __init__(self, stamp: tuple, ids: array):
        self.stamp, self.ids = stamp, ids
        self._placed: tuple | None = None
        # What the look that moved them along found in its window (changes.changed_since):
        # the next look tests again only the customers new to it.
        self.window: changes.Window = {}

    def placed_in(self, found: positions.Positions,
                  ids: Sequence[int]) -> tuple["numpy.ndarray", dict[int, int]]:
        """(each of `ids`' segment in `found`, 0 when not in the list; the matches in each
        segment), worked out once while `found` stays as it is (the caller holds its lock).
        By numpy: for the 49,818 matches of "berlin" 0.3 ms, where a gather and a count in
        Python (operator.itemgetter, Counter) took 6-8 ms of this process's CPU a request."""
        import numpy  # (imported when first used: see search_segments.segment_page)

        kept = self._placed
        if (kept is not None and kept[0]() is found and kept[1] == found.stamp
                and kept[2] == len(ids)):
            return kept[3], kept[4]
        matches = numpy.array(ids, dtype=numpy.int64)
        inside = matches < len(found.where)  # (a customer added since they were placed: 0)
        # A view of the list's array only for this gather: an array exporting its buffer
        # cannot grow, and the list grows it as customers are added.
        where = numpy.frombuffer(found.where, dtype=numpy.uint16)
        segment_of = numpy.zeros(len(matches), dtype=numpy.uint16)
        segment_of[inside] = where[matches[inside]]
        del where
        counts = numpy.bincount(segment_of)
        in_segment = {name: int(counts[name]) for name in numpy.flatnonzero(counts).tolist()
                      if name}  # (0: not in the list, in the trash)
        self._placed = (ref(found), found.stamp, len(ids), segment_of, in_segment)
        return segment_of, in_segment


def kept_matches(words: list[tuple[str, ...]], stamp: tuple,
                 read: Callable[[list[tuple[str, ...]]], Sequence[int]]) -> Matches:
    """The matches of a search of these words as of the register's `stamp`: kept ones (this
    process's, else Redis's) moved along with the customers written since, or read(words)."""
    key = tuple(words)
    with _kept_lock:
        searches = _kept.setdefault(db.engine, OrderedDict())
        found = searches.get(key)
        if found is not None:
            searches.move_to_end(key)
    if found is None or found.stamp != stamp and not changes.follows_cheaper(found.stamp,
                                                                             found.window):
        found = _shared(words) or found  # (moved along by another process: fewer changes)
    if found is not None and found.stamp == stamp:
        _keep(key, found)
        return found
    changed: set[int] | None = None
    window: changes.Window = {}
    if found is not None:
        changed, window, reached = changes.caught_up(found.stamp, stamp, False, found.window)
        if changed is not None and reached == found.stamp:
            _keep(key, found)
            return found
    if found is not None and changed is not None:
        matched = matching_among(sorted(changed), words) if changed else set()
        ids = array("i", (number for number in found.ids if number not in changed))
        ids.extend(sorted(matched))
        stamp = reached
    else:  # (as of the stamp read(words) was asked for)
        ids, window = array("i", read(words)), {}
    matches = Matches(stamp, ids)
    matches.window = window
    _keep(key, matches)
    _share(words, matches)
    return matches


def kept_here(words: list[tuple[str, ...]]) -> int:
    """How many matches this process keeps of a search of these words (as of any stamp:
    kept_matches moves them along); 0 when it keeps none."""
    with _kept_lock:
        searches = _kept.get(db.engine)
        found = None if searches is None else searches.get(tuple(words))
        return 0 if found is None else len(found.ids)


def _keep(key: tuple, matches: Matches) -> None:
    with _kept_lock:
        searches = _kept.setdefault(db.engine, OrderedDict())
        searches[key] = matches
        searches.move_to_end(key)
        while len(searches) > 1 and (len(searches) > KEPT_SEARCHES or sum(
                len(kept.ids) for kept in searches.values()) > KEPT_MATCHES):
            searches.popitem(last=False)


def forget_kept_matches() -> None:
    """Forget the matches kept for this database, here and in Redis (the bench times the
    first request of a search)."""
    with _kept_lock:
        _kept.pop(db.engine, None)
    client = _client()
    if client is not None:
        try:
            names = list(client.scan_iter(match=_shared_key(None) + "*", count=1000))
            if names:
                client.delete(*names)
        except Exception:  # noqa: BLE001 (Redis away: nothing kept there either)
            _away()


# Redis: the stamp as JSON (its moments as ISO text) and the ids as bytes, under a key of the
# prefix, the database and the words. Anything Redis answers wrongly or not at all leaves the
# search to be read from the database, as without Redis.

def _client():
    url = current_app.config.get("REDIS_URL")
    if not url or time.monotonic() < _away_until[0]:
        return None
    client = _clients.get(url)
    if client is None:
        import redis  # the `redis` extra, installed where REDIS_URL is used
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = _clients.setdefault(url, redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)))
    return client


def _away() -> None:
    log.warning("kept searches: Redis unreachable; searches read from the database for %d s",
                AWAY_SECONDS, exc_info=True)
    _away_until[0] = time.monotonic() + AWAY_SECONDS


def _shared_key(words: list[tuple[str, ...]] | None) -> str:
    database = sha256(db.engine.url.render_as_string().encode()).hexdigest()[:16]
    start = f"{current_app.config['REDIS_PREFIX']}:searches:{database}:"
    return start if words is None else start + sha256(
        json.dumps(words, ensure_ascii=False).encode()).hexdigest()


def stamp_text(stamp: tuple) -> str:
    """A stamp of the register (paging.register_stamp) as JSON text (its moments as ISO)."""
    return json.dumps([{"moment": part.isoformat()} if isinstance(part, datetime) else part
                       for part in stamp])


def stamp_of(text: bytes | str) -> tuple:
    """The stamp of stamp_text's text."""
    return tuple(datetime.fromisoformat(part["moment"]) if isinstance(part, dict) else part
                 for part in json.loads(text))


def _shared(words: list[tuple[str, ...]]) -> Matches | None:
    client = _client()
    if client is None:
        return None
    try:
        stamp, ids = client.hmget(_shared_key(words), "stamp", "ids")
        if stamp is None or ids is None:
            return None
        found = array("i")
        found.frombytes(ids)
        return Matches(stamp_of(stamp), found)
    except Exception:  # noqa: BLE001 (Redis away or a value not ours: read from the database)
        _away()
        return None


def _share(words: list[tuple[str, ...]], matches: Matches) -> None:
    client = _client()
    if client is None or len(matches.ids) > SHARED_AT_MOST:
        return
    try:
        name = _shared_key(words)
        client.pipeline().hset(name, mapping={
            "stamp": stamp_text(matches.stamp), "ids": matches.ids.tobytes(),
        }).expire(name, SHARED_SECONDS).execute()
    except Exception:  # noqa: BLE001 (Redis away: kept in this process only)
        _away()
