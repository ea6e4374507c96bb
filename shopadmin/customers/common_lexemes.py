"""PostgreSQL: how a search uses the kept ids of the lexemes thousands of customers share.

A search word that tens of thousands of customers match ("lodz": 41,765 at a million) costs the
GIN index its lists and then a block of the search table for each match and a half (28,316 of
its 48,150 blocks), 45-60 ms of the server's CPU, however few the page shows (search_segments).
No index of the search table gives the ids without its rows. So the lexemes that many customers
share (a city, a first name, a postcode) have their customers' ids kept in
`customer_search_common`: a row a lexeme, holding every customer with a lexeme that starts with
it ('lukas' holds 'lukasz' and 'lukas.nowak.12', an e-mail's local part), as 4-byte integers,
and a row a common prefix lexeme ('^k', '^mu': a word of one or two letters, see search.py)
holding its customers as a bitmap (bit n: customer n). Which lexemes are common, and their
refresh by the worker: common_lexemes_job.

A search then takes the matches of each word in three parts (several words: the customers of
all of them, intersected here):
- the kept ids of the kept lexemes that start with the word, less the customers written since
  they were kept (changes.changed_since, as the kept searches and the list's segments use
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
A deep page of a word of one or two letters, or one whose matches lie far down the order,
reads its matches from the prefix's bitmap as one row (prefix_matches: "k", 233,057 customers,
some 5 ms, against 265 ms through the GIN index and the table), moved along with the changes
since as above; search_pages knows from its size (prefix_count) how far a walk of the order
would go. SQLite needs none of this: its FTS5 doclists give the ids.
"""

import json
import sys
import zlib
from array import array
from collections.abc import Sequence
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    Text,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from ..audit import AuditEvent
from ..extensions import db
from ..text import _NON_WORD
from . import changes
from .kept_searches import stamp_of as _stamp_of
from .kept_searches import stamp_text as _stamp_text
from .scrub import FORGETTING_ACTIONS
from .search import PREFIX_MARK, SHORT, _quoted, customer_search_vectors, matching_among

# At most this many customers written since the kept ids are tested again by id in a search
# (the job keeps them anew after common_lexemes_job.REFRESH_AFTER).
TESTED_AT_MOST = 2_000
# The characters of a term (folded: text.fold_words keeps these alone).
ALPHABET = "".join(character for character in map(chr, range(33, 127))
                   if not _NON_WORD.match(character))
# Past this many customers beside the kept lexemes ("exa": 'example.de' is too common to keep),
# the search reads the GIN index and the table as before.
BESIDE_AT_MOST = 5_000
# Past this many customers found for a search of several words through the first letters of
# its kept ones (_narrowed), the search reads the GIN index for its words as they are.
NARROWED_AT_MOST = 5_000

customer_search_common = Table(
    "customer_search_common",
    db.metadata,
    Column("lexeme", Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True),
    Column("stamp", Text, nullable=False),
    Column("ids", LargeBinary, nullable=False),
    info={"dialects": ("postgresql",)},
)


_made: "WeakKeyDictionary[Any, bool]" = WeakKeyDictionary()
# The row of what the job saw in the window of its stamp (changes.changed_since; no lexeme
# is empty), and this process's copy of it: stamp text -> window.
_WINDOW = ""
_windows: "WeakKeyDictionary[Any, dict[str, changes.Window]]" = WeakKeyDictionary()
# The customers written since the kept stamp, as this process last moved them along: (the
# kept stamp, the stamp reached, the customers (None: too many), the window reached).
_since: "WeakKeyDictionary[Any, tuple[tuple, tuple, frozenset[int] | None, changes.Window]]" = (
    WeakKeyDictionary())
_since_lock = Lock()


def _table_made() -> bool:
    """Whether the database has the table (known once it has: a database migrated down to
    before it, as a test of the search's migrations does, searches through the GIN index)."""
    if _made.get(db.engine):
        return True
    made = db.session.scalar(select(func.to_regclass("customer_search_common"))) is not None
    if made:
        _made[db.engine] = True
    return made


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


def _forgotten_since(kept: tuple) -> bool:
    return db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action.in_(FORGETTING_ACTIONS), AuditEvent.id > (kept[5] or 0)).limit(1)
    ) is not None


def _changed(kept: tuple, now: tuple) -> set[int] | None:
    """The customers written since the stamp the ids were kept at (changes.changed_since);
    none when the register's stamp is the same (whatever address the job knew the database
    by). changed_since also looks again at those written in the moments before the stamp's
    latest change (a late commit may stamp them): those the job saw there unchanged when it
    kept the ids (_kept_window) are left out. Without that, after an import or a build (a
    million demo customers: 7,423 in the last two seconds) any change of the stamp, a
    sign-in's audit event too, named them all, more than TESTED_AT_MOST, and the kept ids went
    unused until a customer was written. The customers found are moved along from stamp to
    stamp (changes.caught_up), not read again since the kept stamp at every search: under an
    import, thousands each time."""
    if kept[1:] == now[1:]:
        return set()
    with _since_lock:
        found = _since.get(db.engine)
    if found is not None and found[0] == kept[1:]:
        _, reached, written, window = found
        if written is None or reached[1:] == now[1:]:  # (more_than, then prefix_matches)
            return None if written is None else set(written)
        more, window, reached = changes.caught_up(reached, now, False, window)
        joined: set[int] | None = None if more is None else more | written
    else:
        joined, window, reached = changes.caught_up(kept, now, False, _kept_window(kept))
    if joined is not None and len(joined) > changes.REPAIR_AT_MOST:
        joined = None  # (until the job keeps the ids anew)
    with _since_lock:
        _since[db.engine] = (kept[1:], reached, None if joined is None else frozenset(joined),
                             window)
    return None if joined is None else set(joined)


def _kept_window(kept: tuple) -> changes.Window:
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


