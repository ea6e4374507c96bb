"""Pages of a search box entry with no other filter.

A search of longer words (three letters or more) is placed through the list's segments
(search_segments): the search index gives the matches' ids, the register's segments in the
sort order say which segment holds the page, and only that segment's matches are read and
sorted; it is counted exactly. It replaced a walk of the sort order's index bounded by what
reading the matches by id would cost (SQLite: its progress handler; PostgreSQL: a row limit
chosen from the planner's estimate) and, when the walk gave up, that read by id: "lodz" at a
million (41,765 matches, clustered far down the name order), "lukasz" by e-mail and "berlin" by
e-mail at page 50 were read by id, 300 ms of the PostgreSQL server's CPU each.

Words of one or two letters match most of a register ("k": every customer number; "mu": tens
of thousands of names), spread over any order: listing their ids would cost more than the page.
Walking the sort order's index (live customers only, WALK_CHUNK at a time) and keeping those
whose terms match fills a page after a few hundred customers instead; such a search is counted
only up to COUNT_UP_TO ("more than 10,000 customers"): counting all that "k" matches costs a
look-up each. On PostgreSQL the walk is one statement bounded in rows (`LIMIT` on the sort
order's index, each customer's terms tested by primary key), and the count is taken in the
search index's table (COUNT_UP_TO + 1 rows at most, the trash's matches taken off after),
unless a kept lexeme that starts with the word holds more customers than that, less those
written since and those in the trash (common_lexemes.more_than: "mu" beside 'munchen', 50,049
customers at a million; the count through the index and the table cost 22-27 ms of the
server's CPU). A page the walk would find only far down the order (a deep page, or matches
that cluster far from the order's start) is placed through the segments from the ids of every
match, as a longer word's page is, and those ids are kept for the next page (_placed). On
PostgreSQL the ids of a word the worker keeps a bitmap of are one row (common_lexemes), whose
size also says how far the walk should go: "mu" by e-mail descending and "k" at page 2,500 as
new searches at a million, 201 and 237 ms (the server's CPU 173 and 209 ms, most of it a block
of the search table a match) -> 40 and 41 ms (17 and 12 ms); SQLite's walk that meets no match
gives up soon ("mu" by e-mail descending 110 -> 30 ms of CPU).
"""

from sqlalchemy import ColumnElement, Select, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import TSQUERY
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..routing import database_id
from . import paging
from .common_lexemes import more_than, prefix_count
from .kept_searches import kept_here
from .listing import (
    FILTER_KEYS,
    SORTS,
    Page,
    apply_filters,
    count_customers,
    parse_sort,
)
from .models import Customer
from .search import (
    customer_search,
    customer_search_vectors,
    matching_among,
    prefix_query,
    query_words,
    text_match,
    vector_match,
)
from .search_segments import segment_page

COUNT_UP_TO = 10_000
WALK_CHUNK = 500
# A walk stops past max(2 x the customers it expects to pass (page x page size / the share
# that matches), 5,000), and the matches are read by id instead.
WALK_SLACK, WALK_GIVE_UP = 2, 5_000
# A page the walk expects to find past this many customers (on PostgreSQL each a look-up of
# its terms, some 9 us of the server; on SQLite some 50 us of this process, chunk by chunk),
# one the walk gave up on, or any page of a search whose matches this process keeps (fewer
# than a tenth of the register), is placed through the segments from the ids of every match
# instead (_placed).
WALK_AT_MOST, SQLITE_WALK_AT_MOST = 50_000, 10_000
# SQLite's walk, chunk by chunk: past WALK_PROBE customers, one whose matches so far say the
# page lies past its give-up point (none met: "mu" by e-mail descending, whose matches lie past
# 10,500 customers) stops there and is placed (each customer walked some 9 us of this process:
# the 10,500 cost 80 ms, where the matches' ids are read and placed in some 10 ms). A walk
# whose share of matches is known (kept, or a kept bitmap's size) gives up past twice what
# that share expects, or WALK_PROBE, instead of WALK_GIVE_UP.
WALK_PROBE = 1_000


def text_only(args: MultiDict) -> list[tuple[str, ...]] | None:
    """The search words when the list is a search and nothing else (a sort aside)."""
    text = (args.get("q") or "").strip()
    if not text or any(args.get(key) for key in FILTER_KEYS if key not in ("q", "sort")):
        return None
    return query_words(text) or None


def _short(words: list[tuple[str, ...]]) -> bool:
    return any(len(word) <= 2 for alternatives in words for word in alternatives)


def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def matches_by_index(args: MultiDict, words: list[tuple[str, ...]]) -> Select:
    """The ids of live customers the search matches, in the search index's order (SQLite: each
    looked up by id as the index yields it, so that a LIMIT stops early)."""
    if not _sqlite():
        return apply_filters(select(Customer.id), args)
    number = database_id(args.get("q", ""))
    if number is not None:
        return select(Customer.id).where(Customer.deleted_at.is_(None), or_(
            Customer.id == number,
            Customer.id.in_(select(customer_search.c.rowid).where(text_match(words)))))
    return (select(Customer.id).select_from(customer_search)
            .join(Customer, Customer.id == customer_search.c.rowid)
            .where(Customer.deleted_at.is_(None), text_match(words)))


def _counted_in_vectors(words: list[tuple[str, ...]], stamp: tuple) -> tuple[int, bool]:
    """PostgreSQL: (live customers matching, up to COUNT_UP_TO; whether more do), counted in
    the search index's table, which stops after COUNT_UP_TO + 1 + the trash's size; the trash's
    matches (read through the trash's ids) are taken off after."""
    trashed = stamp[4]
    vectors = customer_search_vectors.c
    cap = COUNT_UP_TO + 1 + trashed
    found = db.session.scalar(select(func.count()).select_from(
        select(vectors.customer_id).where(vector_match(words)).limit(cap).subquery()))
    if found and trashed:
        found -= db.session.scalar(select(func.count()).select_from(customer_search_vectors)
                                   .where(vectors.customer_id.in_(
                                       select(Customer.id).where(Customer.deleted_at.is_not(None))),
                                          vector_match(words)))
    return min(found, COUNT_UP_TO), found > COUNT_UP_TO


def walk_postgresql(args: MultiDict, words: list[tuple[str, ...]], offset: int, per_page: int,
                    bound: int) -> list[int] | None:
    """PostgreSQL: the ids of the page at `offset` of a search alone, found by walking at most
    `bound` customers of the sort order's index and keeping the matches (one statement); None
    when the walk ends before the page does while customers remain beyond it."""
    key, descending = parse_sort(args.get("sort"))
    columns = SORTS[key]
    picked = list(dict.fromkeys((Customer.id, *columns)))
    order = [column.desc() if descending else column.asc() for column in columns]
    walked = (select(*picked).where(Customer.deleted_at.is_(None))
              .order_by(*order).limit(bound).subquery())
    vectors = customer_search_vectors.c
    # ts_match_vq is `@@` as a function, which no index serves: the planner cannot turn the
    # walk into a read of every match through the GIN index and a join.
    match: ColumnElement[bool] = func.ts_match_vq(
        vectors.terms, cast(literal(prefix_query(words)), TSQUERY))
    number = database_id(args.get("q", ""))
    if number is not None:
        match = or_(match, walked.c.id == number)
    outer = [walked.c[column.key].desc() if descending else walked.c[column.key].asc()
             for column in columns]
    ids = list(db.session.scalars(
        select(walked.c.id)
        .join(customer_search_vectors, vectors.customer_id == walked.c.id, isouter=True)
        .where(match).order_by(*outer).offset(offset).limit(per_page)))
    if len(ids) < per_page and bound < count_customers(MultiDict()):
        return None
    return ids


def search_count(args: MultiDict, words: list[tuple[str, ...]],
                 stamp: tuple | None = None) -> tuple[int, bool]:
    """(how many customers a search of short words matches, up to COUNT_UP_TO; whether more
    do), as of the register's `stamp` (read here when not given)."""
    if not _sqlite() and database_id(args.get("q", "")) is None:
        stamp = stamp or paging.register_stamp()
        if len(words) == 1 and len(words[0]) == 1 and more_than(
                words[0][0], COUNT_UP_TO, stamp):
            return COUNT_UP_TO, True
        return _counted_in_vectors(words, stamp)
    counted = db.session.scalar(select(func.count()).select_from(
        matches_by_index(args, words).limit(COUNT_UP_TO + 1).subquery()))
    return min(counted, COUNT_UP_TO), counted > COUNT_UP_TO


def search_page(args: MultiDict, words: list[tuple[str, ...]], page: int,
                per_page: int, stamp: tuple | None = None) -> Page:
    """The page of a search alone, as of the register's `stamp` (the request's: each reading
    of it is three statements; read here when not given)."""
    if not _short(words):
        return segment_page(args, words, page, per_page, stamp)
    total, more = search_count(args, words, stamp)
    pages = max((total + per_page - 1) // per_page, 1)
    page = max(page, 1) if more else min(max(page, 1), pages)
    register = count_customers(MultiDict())
    # Matches kept from an earlier page are placed without a walk, unless a tenth of the
    # register or more ("k": the walk finds a page within a few hundred customers, a segment
    # holds thousands of matches to sort). A word's kept bitmap says how many match (where
    # the count stops at COUNT_UP_TO): the walk is expected as far as that share says, and
    # given up soon after, since its matches are then read as one row.
    kept = kept_here(words)
    known = kept or _bitmap_count(args, words)
    walked = page * per_page * register / max(known or total, 1)
    if walked > (WALK_AT_MOST if not _sqlite() else SQLITE_WALK_AT_MOST) or (
            0 < kept * 10 < register):
        return _placed(args, words, page, pages, per_page, stamp, total, more)
    key, descending = parse_sort(args.get("sort"))
    columns = SORTS[key]
    order = [column.desc() if descending else column.asc() for column in columns]
    number = database_id(args.get("q", ""))
    skip, last, matched, passed = (page - 1) * per_page, None, [], 0
    # The matches may cluster far down the order ("lodz" in the name order: Polish names come
    # after the A to J of the others): past twice the walk expected, they are placed instead.
    give_up = max(WALK_SLACK * walked, WALK_PROBE if known else WALK_GIVE_UP)
    if not _sqlite():
        ids = walk_postgresql(args, words, skip, per_page, int(give_up) + WALK_CHUNK)
        if ids is None:
            return _placed(args, words, page, pages, per_page, stamp, total, more)
        return _page_of(ids, total, page, pages, per_page, more)
    wanted = skip + per_page
    while len(matched) < per_page:
        met = wanted - per_page - skip + len(matched)  # (the matches passed, and the page's)
        if passed > give_up or _far_beyond(passed, met, wanted, give_up):
            return _placed(args, words, page, pages, per_page, stamp, total, more)
        query = select(Customer.id, *columns).where(Customer.deleted_at.is_(None))
        if last is not None:
            query = query.where(paging.after(columns, last, descending))
        chunk = db.session.execute(query.order_by(*order).limit(WALK_CHUNK)).all()
        if not chunk:
            break
        passed += len(chunk)
        hits = matching_among([row[0] for row in chunk], words) | {number}
        for row in chunk:
            if row[0] in hits and len(matched) < per_page:
                if skip:
                    skip -= 1
                else:
                    matched.append(row[0])
        last = tuple(chunk[-1][1:])
    return _page_of(matched, total, page, pages, per_page, more)


def _bitmap_count(args: MultiDict, words: list[tuple[str, ...]]) -> int:
    """PostgreSQL: the customers of the kept bitmap of a word of one or two letters alone (as
    written; common_lexemes.prefix_count), whose matches are read as one row ("mu" by e-mail
    descending walked 10,500 customers without a match, then read its 62,947 matches through
    the GIN index and the table: 150 ms of the server's CPU). 0 when there is none, or the
    search is also a customer's id."""
    if _sqlite() or len(words) != 1 or len(words[0]) != 1 or database_id(
            args.get("q", "")) is not None:
        return 0
    return prefix_count(words[0][0]) or 0


def _far_beyond(passed: int, met: int, wanted: int, give_up: float) -> bool:
    """Whether a walk that passed `passed` customers (WALK_PROBE or more) and met `met` of the
    `wanted` matches up to the page's end would, at that share, pass more than `give_up`."""
    return passed >= WALK_PROBE and passed * wanted > give_up * max(met, 1)


def _placed(args: MultiDict, words: list[tuple[str, ...]], page: int, pages: int,
            per_page: int, stamp: tuple | None, total: int, more: bool) -> Page:
    """The page of a search of short words that a walk would not find soon (a deep page, or
    matches far down the order: "mu" by e-mail descending passes 10,500 customers without
    one), placed through the segments from the ids of every match, which are kept as
    a longer word's are (search_segments: the next page, or another order, reads none again);
    counted as the walk's pages are, up to COUNT_UP_TO. At a million, "mu" by e-mail descending
    took 1.1 s of the server's CPU read by id (the walk given up), page 100 in the name order
    0.4 s walked; the ids of its 62,947 matches 0.1 s, once."""
    placed = segment_page(args, words, page, per_page, stamp)
    if not more or placed.page != page:  # (counted exactly; or past the end: the last page)
        return placed
    return Page(placed.customers, total, page, pages, per_page, more)


def _customers(ids: list[int]) -> list[Customer]:
    """The customers with these ids, in this order."""
    found = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)))}
    return [found[customer_id] for customer_id in ids]


def _page_of(ids: list[int], total: int, page: int, pages: int, per_page: int,
             more: bool) -> Page:
    return Page(_customers(ids), total, page, pages, per_page, more)
