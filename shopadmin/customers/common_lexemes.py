"""PostgreSQL: the ids of the lexemes that thousands of customers share, kept in a table.

A search word that tens of thousands of customers match ("lodz": 41,765 at a million) costs the
GIN index its lists and then a block of the search table for each match and a half (28,316 of
its 48,150 blocks), 45-60 ms of the server's CPU, however few the page shows (search_segments).
No index of the search table gives the ids without its rows. So the lexemes that many customers
share (a city, a first name, a postcode: COMMON_FROM customers or more, as the statistics of the
search table estimate them) have their customers' ids kept in `customer_search_common`: a row a
lexeme, holding every customer with a lexeme that starts with it ('lukas' holds 'lukasz' and
'lukas.nowak.12', an e-mail's local part), as 4-byte integers. A job of the worker writes it
(keep_common_lexemes, every minute: only after ANALYZE changed which lexemes are common, after
more than REFRESH_AFTER customers were written since, or a customer was forgotten; and not
while the register is being written, as by an import); imports and edits write only the
search vectors, as before.

A search then takes the matches of each word in three parts (several words: the customers of
all of them, intersected here):
- the kept ids of the kept lexemes that start with the word, less the customers written since
  they were kept (positions.changed_since, as the kept searches and the list's segments use
  it); a search of a kept lexeme ("lodz", "lukasz") is that one row;
- for a shorter word ("luk" beside 'lukas'), the customers of the lexemes that start with the
  word but with none of the kept ones, from the GIN index: what lies beside the kept lexemes
  is named letter by letter ('luk', 'luk0':*, ..., 'luka', 'lukaa':*, ...: every character a
  term may hold), so that the index reads no list of a kept lexeme and the table only the rows
  of the rest (at a million, beside "lodz": 2 ms, where `'lodz':* & !'lodz'`, which reads the
  kept lexeme's list, took 45 ms);
- the customers written since, each tested again by id (search.matching_among).
With more changes since than TESTED_AT_MOST, more than BESIDE_AT_MOST customers beside the kept
lexemes, or no kept lexeme for the word, the search reads the GIN index and the table as before.

A word of one or two letters ("k", "mu") is its prefix lexeme ('^k', '^mu', see search.py),
which most of a register may hold: the job keeps the customers of each one COMMON_FROM
customers or more have as a bitmap (bit n: customer n; 125 kB at a million whatever the share,
where 4-byte ids of the 226 common ones would take 74 MB), all read in one pass over the search
table (7.5 s of the server's CPU at a million: the GIN index would read a block of the table
for each (prefix, customer), 18.6 million). A deep page of such a search, or one whose matches
lie far down the order, reads its matches from the bitmap as one row (prefix_matches: "k", 233,057
customers, some 5 ms, against 265 ms through the GIN index and the table), moved along with
the changes since as above; search_pages knows from its size (prefix_count) how far a walk of
the order would go.
SQLite needs none of this: its FTS5 doclists give the ids.
"""

import json
import sys
import zlib
from array import array
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

from huey import crontab
from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

from ..audit import AuditEvent
from ..database import utcnow
from ..extensions import db
from ..jobs import job
from ..text import _NON_WORD
from . import paging, positions
from .kept_searches import stamp_of as _stamp_of
from .kept_searches import stamp_text as _stamp_text
from .models import Customer
from .scrub import FORGETTING_ACTIONS
from .search import PREFIX_MARK, SHORT, _quoted, customer_search_vectors, matching_among

# A lexeme is kept from this many customers on (fewer cost the GIN index and the table a few
# milliseconds), and not past KEPT_AT_MOST (4 bytes each; a word nearly everyone has is no
# search anyone pages through).
COMMON_FROM, KEPT_AT_MOST = 5_000, 250_000
# At most this many customers written since the kept ids are tested again by id in a search;
# the job keeps them anew after REFRESH_AFTER.
TESTED_AT_MOST, REFRESH_AFTER = 2_000, 1_000
# ... once nobody wrote the register for this long (an import writes it for minutes).
QUIET_SECONDS = 60
# The characters of a term (folded: text.fold_words keeps these alone).
ALPHABET = "".join(character for character in map(chr, range(33, 127))
                   if not _NON_WORD.match(character))
# Past this many customers beside the kept lexemes ("exa": 'example.de' is too common to keep),
# the search reads the GIN index and the table as before.
BESIDE_AT_MOST = 5_000
# Past this many customers found for a search of several words through the first letters of
# its kept ones (_narrowed), the search reads the GIN index for its words as they are.
NARROWED_AT_MOST = 5_000
# The job's lock (pg_try_advisory_xact_lock): two workers never write the table at once.
_LOCK = 0x5EA4C4

customer_search_common = Table(
    "customer_search_common",
    db.metadata,
    Column("lexeme", Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True),
    Column("stamp", Text, nullable=False),
    Column("ids", LargeBinary, nullable=False),
    info={"dialects": ("postgresql",)},
)


_made: "WeakKeyDictionary[Any, bool]" = WeakKeyDictionary()
# The row of what the job saw in the window of its stamp (positions.changed_since; no lexeme
# is empty), and this process's copy of it: stamp text -> window.
_WINDOW = ""
_windows: "WeakKeyDictionary[Any, dict[str, positions.Window]]" = WeakKeyDictionary()
# The customers written between the last two stamps asked for (the same for the same stamps).
_changes: "WeakKeyDictionary[Any, tuple[tuple, set[int] | None]]" = WeakKeyDictionary()


def _table_made() -> bool:
    """Whether the database has the table (known once it has: a database migrated down to
    before it, as a test of the search's migrations does, searches through the GIN index)."""
    if _made.get(db.engine):
        return True
    made = db.session.scalar(select(func.to_regclass("customer_search_common"))) is not None
    if made:
        _made[db.engine] = True
    return made


def _packed(ids: Sequence[int]) -> bytes:
    packed = array("i", ids)
    if sys.byteorder == "big":  # kept little-endian whatever machine writes or reads them
        packed.byteswap()
    return packed.tobytes()


def _unpacked(data: bytes, into: array) -> None:
    found = array("i")
    found.frombytes(data)
    if sys.byteorder == "big":
        found.byteswap()
    into.extend(found)


def _ids_of(query: str) -> list[int]:
    """The ids of the customers (the trash's too) whose vector matches the tsquery text; the
    query as a literal, planned for its words (see search_segments.matching_ids)."""
    vectors = customer_search_vectors.c
    words = bindparam("query", query, type_=Text, literal_execute=True)
    return db.session.scalar(select(func.array_agg(vectors.customer_id))
                             .where(vectors.terms.op("@@")(cast(words, TSQUERY)))) or []


def common_matches(words: list[tuple[str, ...]], stamp: tuple) -> array | None:
    """The ids of every customer (the trash's too) matching a search, as of the register's
    `stamp`, through the kept lexemes that start with each of its words (several words: the
    customers all of them match, when each word is a kept lexeme; when only some are, the GIN
    index's answer for the others narrowed by them, _narrowed); None when a word has none (or
    no word of several is a kept lexeme), or alternatives (a phone number), when too many
    customers were written since they were kept, or on SQLite."""
    if db.engine.dialect.name == "sqlite" or not words or any(
            len(alternatives) != 1 for alternatives in words) or not _table_made():
        return None
    table = customer_search_common.c
    # Which rows, first (their ids only once they will be used: 167 kB for "lodz").
    rows = db.session.execute(select(table.lexeme, table.stamp).where(
        or_(*(func.starts_with(table.lexeme, word) for (word,) in words)))).all()
    if not rows or len({row.stamp for row in rows}) > 1:
        return None
    lexemes = {row.lexeme for row in rows}
    # A kept lexeme's ids are those of every lexeme that starts with it ('lukas':* holds
    # 'lukasz' and 'lukas.nowak.12'): for each word, those that start with another add nothing.
    wanted = {word: [lexeme for lexeme in lexemes if lexeme.startswith(word) and not any(
        lexeme[:length] in lexemes for length in range(len(word), len(lexeme)))]
        for (word,) in words}
    # Among several words, those that are kept lexemes themselves narrow the GIN index's
    # answer for the others (_narrowed); a shorter word beside kept ones ("mull" beside
    # 'muller': 8,000 customers more, by names and e-mail addresses) is the index's.
    several = len(words) > 1 and any(kept != [word] for word, kept in wanted.items())
    kept_words = [word for word, kept in wanted.items() if kept == [word]]
    if not kept_words if several else any(not kept for kept in wanted.values()):
        return None
    changed = _changed(_stamp_of(rows[0].stamp), stamp)
    if changed is None or len(changed) > TESTED_AT_MOST:
        return None
    if several:
        return _narrowed(words, kept_words, changed)
    ids = dict(db.session.execute(select(table.lexeme, table.ids).where(
        table.lexeme.in_({lexeme for kept in wanted.values() for lexeme in kept}))).all())
    found: array | None = None
    for word in sorted(wanted, key=len, reverse=True):  # (a longer word: fewer matches)
        matches = _word_matches(word, wanted[word], ids, changed)
        if matches is None:
            return None
        if found is not None:  # (the customers that match every word)
            smaller, larger = sorted((found, matches), key=len)
            among = set(smaller)
            matches = array("i", (number for number in larger if number in among))
        found = matches
    return found


def more_than(word: str, at_least: int, stamp: tuple) -> bool:
    """Whether more than `at_least` live customers have a term that starts with `word` (one or
    two letters: a search by its prefix lexeme, "mu"), as of the register's `stamp`, told by
    the kept lexemes that start with it ('munchen' for "mu"): the customers of the largest
    certainly match, less any of them written since it was kept and any in the trash. False
    when that does not tell (fewer kept, a customer forgotten since, too many changes, or on
    SQLite): the caller counts. At a million, "mu" (62,947 customers; 'munchen' 50,049): one
    row's size and the changes since, where counting 10,001 of them through the GIN index and
    the table took 22-27 ms of the server."""
    if db.engine.dialect.name == "sqlite" or not _table_made():
        return False
    table = customer_search_common.c
    size = func.octet_length(table.ids)  # (the value's size, without reading it)
    largest = db.session.execute(select(table.stamp, size).where(
        func.starts_with(table.lexeme, word)).order_by(size.desc()).limit(1)).first()
    trashed = stamp[4] or 0
    if largest is None or largest[1] // 4 - trashed <= at_least:
        return False
    kept = _stamp_of(largest[0])
    changed = _changed(kept, stamp)
    return (changed is not None and largest[1] // 4 - len(changed) - trashed > at_least
            and not _forgotten_since(kept))


def prefix_count(word: str) -> int | None:
    """How many customers (the trash's too) had a term starting with `word` (one or two
    letters) when its kept bitmap was written (bit_count: no ids read); None when none is
    kept (or on SQLite)."""
    if db.engine.dialect.name == "sqlite" or not _table_made():
        return None
    table = customer_search_common.c
    return db.session.scalar(select(func.bit_count(table.ids))
                             .where(table.lexeme == PREFIX_MARK + word))


def prefix_matches(word: str, stamp: tuple) -> array | None:
    """The ids of every customer (the trash's too) with a term that starts with `word` (one or
    two letters), as of the register's `stamp`: its kept bitmap (one row, where the GIN index
    reads a block of the search table for each match: "k" at a million, 233,057 matches, 265
    ms), less the customers written since it was kept, and those tested again by id; None
    when no bitmap is kept for it, too many were written since, or on SQLite."""
    if db.engine.dialect.name == "sqlite" or not _table_made():
        return None
    table = customer_search_common.c
    row = db.session.execute(select(table.stamp, table.ids)
                             .where(table.lexeme == PREFIX_MARK + word)).first()
    if row is None:
        return None
    changed = _changed(_stamp_of(row.stamp), stamp)
    if changed is None or len(changed) > TESTED_AT_MOST:
        return None
    import numpy  # (imported when first used: see search_segments.segment_page)

    bits = numpy.unpackbits(numpy.frombuffer(row.ids, dtype=numpy.uint8), bitorder="little")
    ids = numpy.flatnonzero(bits).astype(numpy.int32)
    if changed:
        ids = ids[~numpy.isin(ids, numpy.fromiter(changed, dtype=numpy.int32))]
    found = array("i")
    found.frombytes(ids.tobytes())
    found.extend(sorted(matching_among(sorted(changed), [(word,)])))
    return found


def _narrowed(words: list[tuple[str, ...]], kept_words: list[str],
              changed: set[int]) -> array | None:
    """The customers matching every word of a search of several, when some of its words are
    kept lexemes (`kept_words`) and the others are not: the GIN index is asked for each kept
    word's first two letters (its prefix lexeme, `'^an'`: one list, where `'anna':*` merges
    the lists of the thousands of lexemes that start with it, e-mail addresses among them)
    and for the other words as they are, and its answer is cut to the kept ids of the kept
    words; the customers written since they were kept are tested again by id. None when the
    index finds more than NARROWED_AT_MOST (the kept words' first letters too common beside
    the others: the plain query reads fewer rows then).
    At a million, "anna mull": the index's part 7-10 ms of the server against 26-44 ms."""
    query = " & ".join(
        _quoted(PREFIX_MARK + word[:SHORT]) if word in kept_words else f"{_quoted(word)}:*"
        for (word,) in words)
    # The planner's estimate first (its statistics of the lexemes, 0.3 ms): "anna example.de"
    # would read thousands of rows before giving up.
    estimate = db.session.scalar(text(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM customer_search_vectors WHERE terms @@ "
        "CAST(:query AS tsquery)").bindparams(
        bindparam("query", query, type_=Text, literal_execute=True)))
    if estimate[0]["Plan"]["Plan Rows"] > NARROWED_AT_MOST:
        return None
    vectors = customer_search_vectors.c
    literal_query = bindparam("query", query, type_=Text, literal_execute=True)
    limited = (select(vectors.customer_id)
               .where(vectors.terms.op("@@")(cast(literal_query, TSQUERY)))
               .limit(NARROWED_AT_MOST + 1).subquery())
    found = db.session.scalar(select(func.array_agg(limited.c.customer_id))) or []
    if len(found) > NARROWED_AT_MOST:
        return None
    table = customer_search_common.c
    kept_ids = db.session.execute(select(table.ids).where(table.lexeme.in_(kept_words)))
    import numpy  # (imported when first used: see search_segments.segment_page)

    matches = numpy.array(found, dtype=numpy.int32)
    # (kind="table": a flag for each id in the kept ids' range, 0.2 ms for 1,500 against
    # 30,000 where the default, a hash of the kept ids, took 3 ms.)
    for (ids,) in kept_ids:
        matches = matches[numpy.isin(matches, numpy.frombuffer(ids, dtype="<i4"),
                                     kind="table")]
    if changed:
        matches = matches[~numpy.isin(matches, numpy.fromiter(changed, dtype=numpy.int32))]
    result = array("i")
    result.frombytes(matches.astype(numpy.int32).tobytes())
    result.extend(sorted(matching_among(sorted(changed), words)))
    return result


def _word_matches(word: str, kept_lexemes: list[str], ids: dict[str, bytes],
                  changed: set[int]) -> array | None:
    """The customers matching one word: the kept ids of its lexemes (those that start with it,
    none with another) less `changed`, those beside them from the GIN index, and `changed`
    tested again by id; None when more than BESIDE_AT_MOST are beside them."""
    kept = array("i")
    for lexeme in kept_lexemes:
        _unpacked(ids[lexeme], kept)
    if len(kept_lexemes) > 1:  # a customer may hold several of the lexemes
        kept = array("i", set(kept))
    others: Sequence[int] = [] if kept_lexemes == [word] else _beside(word, kept_lexemes)
    if len(others) > BESIDE_AT_MOST:
        return None
    if others:  # (a customer may hold a kept lexeme and another that starts with the word)
        others = sorted(set(others).difference(kept))
    if not changed:
        kept.extend(others)
        return kept
    # (Mostly none of the kept ids was written since: those few found first, in one pass.)
    written = changed.intersection(kept)
    found = array("i", (number for number in kept if number not in written)) if written else kept
    found.extend(number for number in others if number not in changed)
    found.extend(sorted(matching_among(sorted(changed), [(word,)])))
    return found


def _beside(word: str, kept: list[str]) -> list[int]:
    """The ids of the customers (the trash's too) with a lexeme that starts with `word` and with
    none of `kept` (each of which starts with it, none with another), perhaps repeated: on the
    way to each kept lexeme, every other letter that may follow as a prefix (`'luk0':*`), and
    each shorter lexeme itself (`'luk'`); no more than BESIDE_AT_MOST + 1. Each is looked up
    in the GIN index on its own (a join of their list with the table): as one query of hundreds
    of alternatives, the index tests each match against all of them ("exa" beside 'example.gb'
    and 'example.at': 9.5 s against 0.6 s for 'exa':* alone)."""
    queries: list[str] = []
    lexemes = set(kept)

    def beside(prefix: str) -> None:
        queries.append(_quoted(prefix))
        for character in ALPHABET:
            longer = prefix + character
            if longer in lexemes:
                continue
            if any(lexeme.startswith(longer) for lexeme in kept):
                beside(longer)
            else:
                queries.append(f"{_quoted(longer)}:*")

    beside(word)
    return list(db.session.scalars(text(
        "SELECT found.customer_id FROM unnest(CAST(:queries AS tsquery[])) AS query(text) "
        "CROSS JOIN LATERAL (SELECT customer_id FROM customer_search_vectors "
        "WHERE terms @@ query.text) AS found LIMIT :most"),
        {"queries": queries, "most": BESIDE_AT_MOST + 1}))


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


def _forgotten_since(kept: tuple) -> bool:
    return db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action.in_(FORGETTING_ACTIONS), AuditEvent.id > (kept[5] or 0)).limit(1)
    ) is not None


def _changed(kept: tuple, now: tuple) -> set[int] | None:
    """The customers written since the stamp the ids were kept at (positions.changed_since);
    none when the register's stamp is the same (whatever address the job knew the database
    by). changed_since also looks again at those written in the moments before the stamp's
    latest change (a late commit may stamp them): those the job saw there unchanged when it
    kept the ids (_kept_window) are left out. Without that, after an import or a build (a
    million demo customers: 7,423 in the last two seconds) any change of the stamp, a
    sign-in's audit event too, named them all, more than TESTED_AT_MOST, and the kept ids went
    unused until a customer was written."""
    if kept[1:] == now[1:]:
        return set()
    key = (kept[1:], now[1:])
    found = _changes.get(db.engine)
    if found is None or found[0] != key:  # (a request asks more_than, then prefix_matches)
        found = (key, positions.changed_since(kept, now, False, _kept_window(kept))[0])
        _changes[db.engine] = found
    return None if found[1] is None else set(found[1])


def _window_row(now: tuple, stamp: str) -> list[dict]:
    """The row of what a look at the stamp `now` sees in its window of stamps (none when too
    many to move one by one): JSON of (part, customer id, stamp) compressed."""
    changed, window = positions.changed_since(now, now, False)
    if changed is None:
        return []
    listed = [[part, customer_id, moment] for (part, customer_id), moment in window.items()]
    return [{"lexeme": _WINDOW, "stamp": stamp,
             "ids": zlib.compress(json.dumps(listed).encode())}]


def _kept_window(kept: tuple) -> positions.Window:
    """What the job saw in the window of the kept stamp (empty when it kept none), read once a
    process (a stamp's window never changes)."""
    stamp = _stamp_text(kept)
    windows = _windows.setdefault(db.engine, {})
    if stamp not in windows:
        table = customer_search_common.c
        packed = db.session.scalar(select(table.ids).where(table.lexeme == _WINDOW,
                                                           table.stamp == stamp))
        listed = json.loads(zlib.decompress(packed)) if packed is not None else []
        windows.clear()  # (only the latest stamp is of use)
        windows[stamp] = {(part, customer_id): moment for part, customer_id, moment in listed}
    return windows[stamp]


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
