"""A page of a search that matches thousands of customers, placed through the list's segments.

Reading every match by id to sort it costs a row read each: "lodz" at a million is 41,765
customers, some 80 ms on SQLite and 300 ms of the PostgreSQL server's CPU, however few the
page shows; a walk of the sort order's index that keeps the matches is quick only when they are
spread over the order (a city sorted by e-mail), not when they cluster far down it (Polish names
after the A to J of the others). Here the search index gives only the matches' ids (SQLite's
FTS5 doclists without a row read; on PostgreSQL the GIN index and the index table's rows, no
customer), and the register's segments in the sort order (positions.py: every live customer's
segment, moved along with every change, as the deep pages use them) say how many matches each
segment holds. The page is in the segment where the running count passes its offset: only the
matches of that segment (and the next, when the page runs over) are read and sorted by the
database. The count is exact (the ids of the live customers among the matches), so the list
says how many match, not "more than 10,000".

Measured at a million (bench/customers.py, the code before and after alternated twice, load 3
on 2 cores), the app's CPU on SQLite: "lodz" 111 -> 41 ms, "lukasz" by e-mail 92 -> 44, "berlin"
by e-mail at page 50 105 -> 47; PostgreSQL's server CPU 292 -> 61, 214 -> 40, 299 -> 73 ms.

What remains on PostgreSQL is the ids themselves (EXPLAIN (ANALYZE, BUFFERS) at a million, load
2-5 on 2 cores): the GIN index's lists, 18-28 ms warm for "lodz":* (16 index pages; the partial
match of a prefix builds a bitmap and reads it again: the lexeme 'lodz' alone 8-11 ms), and a
block of the index's table for each match and a half (28,316 of its 48,150 blocks for 41,765
matches), 30-45 ms warm. Not causes: the GIN pending list (one page: `fastupdate` is on, the
list small), the sort (one or two segments' matches, under 1 ms), the server's memory
(shared_buffers 2 GB against 256 MB in the same run: "lodz" 83 against 86 ms: the table is in
the OS's cache either way). Measured and left: a narrow table (the vectors pushed to TOAST by a
compressible filler column and toast_tuple_target = 128; `toast_tuple_target` alone moves
nothing out of rows under 2 kB): its heap 376 -> 89 MB and the ids 2.2 times faster, but a
million rows took 13.8-19.0 s to write against 3.0-3.2 s, a second more for each 100,000
imported. RUM (Debian's postgresql-15-rum) has no index-only scan (amcanreturn is NULL): each
match is still read from the table, and it orders by an attached column only of a type passed
by value (not a name or an e-mail). PostgreSQL 15 plans no parallel scan for the ids.

So a search keeps its matches in this process (kept_matches): paging through it or sorting it
another way reads no match again, and a change of the register moves them along as it moves
the segments (the customers written since, each tested again by id). A search nobody made
before takes, where its words start lexemes that thousands of customers share, their ids kept
by the worker (common_lexemes: "lodz" 5.6 ms of the server's CPU against 57.8 through the GIN
index and the table, the two alternated in one run); a search of several words of which some
are kept lexemes asks the GIN index for those by their first two letters and cuts its answer
to their kept ids ("anna mull": 14-16 ms of the server's CPU against 28-30); else the ids from
the GIN index as above.

From SEGMENTS_FROM matches on, the page is placed through the segments: the 1,547 matches of
"anna mull" read by id and sorted took 10-11 ms of the server's CPU a request, placed through
the segments 4-5 ms (2,000 before; 500, 100 and 2,000 alternated in one run).
"""

from array import array
from collections.abc import Sequence

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import TSQUERY
from werkzeug.datastructures import MultiDict

from ..database import among
from ..extensions import db
from ..routing import database_id
from . import paging, positions
from .common_lexemes import common_matches, prefix_matches
from .kept_searches import kept_matches
from .listing import SORTS, Page, parse_sort, whole_register
from .models import Customer
from .search import (
    SHORT,
    customer_search,
    customer_search_vectors,
    prefix_query,
    text_match,
)

# Fewer matches than this are read by id and sorted (a few milliseconds): no segments needed.
# (At 1,547 matches the read by id cost the server twice what the segments did.)
SEGMENTS_FROM = 500
def matching_ids(words: list[tuple[str, ...]], stamp: tuple) -> Sequence[int]:
    """The ids of every customer (the trash's too) whose terms match the words as of the
    register's `stamp`, from the search index alone, as one value (not a row a match): SQLite's
    joined text, PostgreSQL's array (which psycopg reads in C), or on PostgreSQL the kept ids
    of the common lexemes the word starts (common_lexemes)."""
    if db.engine.dialect.name == "sqlite":
        joined = db.session.scalar(select(func.group_concat(customer_search.c.rowid))
                                   .select_from(customer_search).where(text_match(words)))
        # numpy parses the joined text in C: 233,057 ids ("k" at a million) 2.3 ms, where
        # json.loads took 10.8 and making its list an array 3 more.
        import numpy  # (imported when first used: see segment_page)

        found = array("i")
        if joined:
            found.frombytes(numpy.fromstring(joined, dtype=numpy.int32, sep=",").tobytes())
        return found
    # A word of one or two letters alone: its kept bitmap (common_lexemes.prefix_matches);
    # beside other words it starts too many lexemes for the kept ones to help.
    if len(words) == 1 and len(words[0]) == 1 and len(words[0][0]) <= SHORT:
        common = prefix_matches(words[0][0], stamp)
    elif any(len(word) <= SHORT for alternatives in words for word in alternatives):
        common = None
    else:
        common = common_matches(words, stamp)
    if common is not None:
        return common
    # The query as a literal: a statement of its own for each search, planned for its words.
    # As a parameter, psycopg prepares the statement after five runs and PostgreSQL may then
    # keep one generic plan for every search, a scan of the whole table (measured: an e-mail
    # prefix of 1,546 matches 10 ms planned for it, 220 ms generic).
    vectors = customer_search_vectors.c
    query = bindparam("words", prefix_query(words), type_=Text, literal_execute=True)
    return db.session.scalar(select(func.array_agg(vectors.customer_id))
                             .where(vectors.terms.op("@@")(cast(query, TSQUERY)))) or []


def _among(ids: list[int]):
    return among(Customer.id, ids, db.engine.dialect.name)


def segment_page(args: MultiDict, words: list[tuple[str, ...]], page: int,
                 per_page: int, stamp: tuple | None = None) -> Page:
    """The page of a search of longer words alone (and of the customer whose id it is, when it
    is a number), counted exactly: when it matches fewer than SEGMENTS_FROM customers, all read
    by id and sorted (one statement that counts them too); else placed through the segments."""
    key, descending = parse_sort(args.get("sort"))
    order = [column.desc() if descending else column.asc() for column in SORTS[key]]
    stamp = stamp or paging.register_stamp()  # (the request's, when it has one)
    matches = kept_matches(words, stamp, lambda words: matching_ids(words, stamp))
    ids: Sequence[int] = matches.ids
    number = database_id(args.get("q", ""))
    if number is not None and number not in set(ids):  # the customer with this id, too
        ids = array("i", [*ids, number])
    # Segments of an order that changes place anew (a PostgreSQL collation other than C
    # orders its text) would be placed after every change: the matches are read by id then.
    if len(ids) < SEGMENTS_FROM or not positions.movable(SORTS[key]):
        return _read_by_id(list(ids), order, max(page, 1), per_page)
    found = whole_register(key, descending, stamp)
    with found.lock:
        segment_of, in_segment = matches.placed_in(found, ids)
        counts = [in_segment.get(name, 0) for name in found.names]
        total = sum(counts)
        pages = max((total + per_page - 1) // per_page, 1)
        page = min(max(page, 1), pages)
        chosen, skip = _segments_of_page(found.names, counts, (page - 1) * per_page, per_page)
    # numpy is imported when first used, not with this module: its import starts OpenBLAS's
    # threads, which in the job worker would start before it lowers its priority (threads
    # keep their creator's), and at the priority of the web.
    import numpy

    members = numpy.array(ids, dtype=numpy.int64)[
        numpy.isin(segment_of, list(chosen))].tolist()
    page_ids = list(db.session.scalars(select(Customer.id).where(_among(members))
                                       .order_by(*order).offset(skip).limit(per_page)))
    return _page(page_ids, total, page, per_page)


def _read_by_id(ids: list[int], order: list, page: int, per_page: int) -> Page:
    """The page of the live customers among `ids`, all read and sorted, counted by the same
    statement (a window: each read once); past the end, the last page."""
    query = (select(Customer.id, func.count().over())
             .where(_among(ids), Customer.deleted_at.is_(None)).order_by(*order))
    rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    if not rows and page > 1:
        live = db.session.scalar(select(func.count()).where(
            _among(ids), Customer.deleted_at.is_(None))) or 0
        page = max((live + per_page - 1) // per_page, 1)
        rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    return _page([row[0] for row in rows], rows[0][1] if rows else 0, page, per_page)


def _page(ids: list[int], total: int, page: int, per_page: int) -> Page:
    found = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)))}
    pages = max((total + per_page - 1) // per_page, 1)
    return Page([found[number] for number in ids], total, page, pages, per_page)


def _segments_of_page(names: list[int], counts: list[int], offset: int,
                      per_page: int) -> tuple[set[int], int]:
    """(the segments that hold the matches at offset .. offset + per_page, the matches of the
    first of them before the page)."""
    chosen: set[int] = set()
    before, skip, taken = 0, 0, 0
    for name, count in zip(names, counts, strict=True):
        if not count:
            continue
        if not chosen:
            if offset >= before + count:
                before += count
                continue
            skip = offset - before
            chosen.add(name)
            taken = count - skip
        elif taken < per_page:
            chosen.add(name)
            taken += count
        else:
            break
    return chosen, skip

