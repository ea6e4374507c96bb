"""PostgreSQL: which lexemes thousands of customers share, and their ids kept by the worker.

A search reads `customer_search_common` (common_lexemes: how, and why). The lexemes kept are
those COMMON_FROM customers or more share as the statistics of the search table estimate them
(ANALYZE's most common elements of its vectors): a lexeme of three letters or more with its
customers' ids as 4-byte integers (not past KEPT_AT_MOST), and a prefix lexeme ('^k', '^mu')
with its customers as a bitmap (125 kB at a million whatever the share, where 4-byte ids of
the 226 common ones would take 74 MB), all the prefixes read in one pass over the search table
(7.5 s of the server's CPU at a million: the GIN index would read a block of the table for
each (prefix, customer), 18.6 million). A job of the worker writes it (keep_common_lexemes,
every minute: only after ANALYZE changed which lexemes are common, after more than
REFRESH_AFTER customers were written since, or a customer was forgotten; and not while the
register is being written, as by an import), with what a look at its stamp saw in the stamp's
window (the search leaves those customers out of the changes since, unless written again);
imports and edits write only the search vectors, as before.
"""

import json
import sys
import zlib
from array import array
from collections.abc import Sequence
from datetime import timedelta

from huey import crontab
from sqlalchemy import Text, bindparam, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from ..database import utcnow
from ..extensions import db
from ..jobs import job
from . import changes, paging
from .common_lexemes import (
    _WINDOW,
    _changed,
    _forgotten_since,
    _ids_of,
    _table_made,
    customer_search_common,
)
from .kept_searches import stamp_of as _stamp_of
from .kept_searches import stamp_text as _stamp_text
from .models import Customer
from .search import PREFIX_MARK, SHORT, _quoted

# A lexeme is kept from this many customers on (fewer cost the GIN index and the table a few
# milliseconds), and not past KEPT_AT_MOST (4 bytes each; a word nearly everyone has is no
# search anyone pages through).
COMMON_FROM, KEPT_AT_MOST = 5_000, 250_000
# The job keeps the ids anew after more than this many customers were written since ...
REFRESH_AFTER = 1_000
# ... once nobody wrote the register for this long (an import writes it for minutes).
QUIET_SECONDS = 60
# The job's lock (pg_try_advisory_xact_lock): two workers never write the table at once.
_LOCK = 0x5EA4C4


def _packed(ids: Sequence[int]) -> bytes:
    packed = array("i", ids)
    if sys.byteorder == "big":  # kept little-endian whatever machine writes or reads them
        packed.byteswap()
    return packed.tobytes()


def _estimated() -> dict[str, float]:
    """Every lexeme ANALYZE found among the most common elements of the search table's
    vectors, with its estimated count of customers."""
    rows = db.session.execute(text(
        "SELECT element, frequency * greatest(class.reltuples, 0) "
        "FROM pg_stats AS stats JOIN pg_class AS class ON class.relname = stats.tablename "
        "AND class.relnamespace = to_regnamespace(stats.schemaname), "
        "unnest(stats.most_common_elems::text::text[], stats.most_common_elem_freqs) "
        "AS common(element, frequency) "
        "WHERE stats.schemaname = current_schema() "
        "AND stats.tablename = 'customer_search_vectors' AND stats.attname = 'terms' "
        "AND element IS NOT NULL")).all()
    return {lexeme: estimate for lexeme, estimate in rows}


def _common_now(estimated: dict[str, float] | None = None) -> dict[str, float]:
    """The lexemes COMMON_FROM customers or more share, as the statistics of the search table
    estimate them (ANALYZE's most common elements of its vectors), with their estimated
    counts; lexemes of one or two letters left out, and the terms' marked first letters (kept
    as bitmaps: common_prefixes)."""
    estimated = _estimated() if estimated is None else estimated
    return {lexeme: estimate for lexeme, estimate in estimated.items() if len(lexeme) > SHORT
            and not lexeme.startswith(PREFIX_MARK) and COMMON_FROM <= estimate <= KEPT_AT_MOST}


def common_prefixes(estimated: dict[str, float] | None = None) -> set[str]:
    """The marked first one or two letters of terms ('^k', '^mu') that COMMON_FROM customers
    or more have, as the statistics estimate them: their customers are kept as bitmaps."""
    estimated = _estimated() if estimated is None else estimated
    return {lexeme for lexeme, estimate in estimated.items()
            if lexeme.startswith(PREFIX_MARK) and estimate >= COMMON_FROM}


def _prefix_rows(prefixes: set[str], stamp: str) -> list[dict]:
    """A row of each prefix lexeme: its customers (the trash's too) as a bitmap (bit n of
    byte n // 8, from the lowest: customer n), read in one pass over the search table (the
    GIN index would read the table's rows once for each prefix: at a million, the 225 common
    ones hold 18.6 million (prefix, customer) pairs, 7.5 s of the server in one pass). The
    prefixes as a literal array, which the server hashes (as a parameter it compared each
    lexeme with every prefix: 16 s)."""
    if not prefixes:
        return []
    import numpy  # (imported when first used: see search_segments.segment_page)

    chosen = bindparam("prefixes", sorted(prefixes), type_=ARRAY(Text), literal_execute=True)
    db.session.execute(text("SET LOCAL work_mem = '256MB'"))  # (the groups' ids: 75 MB)
    found = db.session.execute(
        text("SELECT lexeme, string_agg(int4send(customer_id), ''::bytea) "
             "FROM customer_search_vectors, unnest(tsvector_to_array(terms)) AS lexeme "
             "WHERE starts_with(lexeme, :mark) AND lexeme = ANY(:prefixes) GROUP BY lexeme")
        .bindparams(chosen).execution_options(yield_per=1), {"mark": PREFIX_MARK})
    rows = []
    for lexeme, packed in found:
        ids = numpy.frombuffer(packed, dtype=">i4")
        bits = numpy.zeros(int(ids.max()) + 1, dtype=bool)
        bits[ids] = True
        rows.append({"lexeme": lexeme, "stamp": stamp,
                     "ids": numpy.packbits(bits, bitorder="little").tobytes()})
    return rows


def refresh_common_lexemes() -> int | None:
    """Keep anew the ids of every common lexeme (the caller commits); returns how many lexemes
    are kept, or None when another process is doing it (or on SQLite)."""
    if db.engine.dialect.name == "sqlite" or not db.session.scalar(
            select(func.pg_try_advisory_xact_lock(_LOCK))):
        return None
    # The stamp first: a customer written while the ids are read is written after it, and a
    # search tests it again by id.
    now = paging.register_stamp()
    stamp = _stamp_text(now)
    # What its window holds, looked at before the ids are read: a customer written since the
    # look is read as written, or named changed by the next look (its stamp moved).
    window = _window_row(now, stamp)
    rows = []
    estimated = _estimated()
    for lexeme in sorted(_common_now(estimated)):  # (each kept as estimated: stale() compares)
        ids = _ids_of(f"{_quoted(lexeme)}:*")  # (every lexeme that starts with it)
        rows.append({"lexeme": lexeme, "stamp": stamp, "ids": _packed(ids)})
    rows.extend(_prefix_rows(common_prefixes(estimated), stamp))
    db.session.execute(delete(customer_search_common))
    if rows:
        db.session.execute(insert(customer_search_common), [*rows, *window])
    return len(rows)


def stale() -> bool:
    """Whether the kept lexemes are no longer those the statistics call common, more than
    REFRESH_AFTER customers were written since they were kept, or a customer was forgotten
    since (erased or purged: their id leaves the table within a minute, as their row left)."""
    table = customer_search_common.c
    kept = db.session.execute(select(table.lexeme, table.stamp)
                              .where(table.lexeme != _WINDOW)).all()
    estimated = _estimated()
    if {row.lexeme for row in kept} != set(_common_now(estimated)) | common_prefixes(estimated):
        return True
    return bool(kept) and _changed_past(_stamp_of(kept[0].stamp))


def _changed_past(kept: tuple) -> bool:
    changed = _changed(kept, paging.register_stamp())
    return _forgotten_since(kept) or changed is None or len(changed) > REFRESH_AFTER


def _window_row(now: tuple, stamp: str) -> list[dict]:
    """The row of what a look at the stamp `now` sees in its window of stamps (none when too
    many to move one by one): JSON of (part, customer id, stamp) compressed."""
    changed, window = changes.changed_since(now, now, False)
    if changed is None:
        return []
    listed = [[part, customer_id, moment] for (part, customer_id), moment in window.items()]
    return [{"lexeme": _WINDOW, "stamp": stamp,
             "ids": zlib.compress(json.dumps(listed).encode())}]


def refresh_when_stale() -> int | None:
    """refresh_common_lexemes when stale() (the caller commits), and the register was not
    written in the last QUIET_SECONDS (an import may be writing it: the ids are read once it
    is done, not every minute beside it, some 7 s of the server's CPU each at a million),
    unless a customer was forgotten; None when nothing was done."""
    if db.engine.dialect.name == "sqlite" or not _table_made() or not stale():
        return None
    latest = db.session.scalar(select(func.max(Customer.updated_at)).where(
        Customer.deleted_at.is_(None)))
    table = customer_search_common.c
    kept = db.session.scalar(select(table.stamp).limit(1))
    if (latest is not None and latest > utcnow() - timedelta(seconds=QUIET_SECONDS)
            and not (kept and _forgotten_since(_stamp_of(kept)))):
        return None
    return refresh_common_lexemes()


@job(periodic=crontab(minute="*"))
def keep_common_lexemes() -> None:
    if refresh_when_stale() is not None:
        db.session.commit()
