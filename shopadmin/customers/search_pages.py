"""Pages of a search box entry with no other filter: counted through the search index, and
read by walking the sort order's index when the matches are many.

Reading the matches by id and sorting them costs a row each: nothing for a name that a few
customers have, a lot for "k" (every customer number) or "mu" (tens of thousands of names). For
words of one or two letters, whose matches are that many and spread over any order, walking the
sort order's index (live customers only, WALK_CHUNK at a time) and keeping those whose terms
match fills a page after a few hundred customers instead; such a search is counted only up to
COUNT_UP_TO ("more than 10,000 customers"): counting all that "k" matches costs a look-up each.
Longer words are read by id (measured: walking for "wisniewska" in the name order passes every
name before W, and for "lodz" every name before the Polish ones; bench/customers.py), except
on SQLite when they match SEARCH_WALK_FROM customers or more (a city, a first name): then the
page is first looked for by a walk of the sort order's index that keeps the matches (one
statement, the matches' ids listed once), stopped by SQLite's progress handler once it has
cost what reading the matches by id would, and read by id after all then. Measured on a
million (the statement alone): "berlin" page 20 by name 15 ms against 84 by id, "lukasz" by
e-mail 26 against 58, "lodz" by name 56 against 78; "mull" by name (a last name, whose matches
cluster in the name order: 174 ms walked, 34 by id) stops after some 28 ms.

PostgreSQL has no progress handler: there a walk is one statement whose length is bounded in
rows (`LIMIT` on the sort order's index, each customer's terms tested by primary key). Its GIN
index says which customers match, but rechecks each in the table (some 3.5 us a match at a
million: "lodz", 41,765 matches, 134 ms), so a search of longer words is walked only when the
planner's estimate of its matches (its statistics of the index's terms) says they are many:
then it is walked, within what reading the matches by id would cost, and once the walk has
found the page counted up to COUNT_UP_TO + 1 in the index's table (the trash's matches taken
off after); otherwise, or when the walk gives up, the page is read by id and counted by the
same statement (a window: the matches read once, not once more for a count), with no count
before it. Measured at a million (load 4 to 7 on 2 cores): "lodz"
counted as an IN over every match 340 ms, in the index's table 63 to 92; "berlin" page 20
1,008 ms before, 164 walked; "wisniewska" 148 ms in two statements, 98 in one. The server's
CPU a request without the count before a walk that gives up (or is not tried), the code before
and after alternated twice (bench/customers.py, load 12 to 15): "lodz" 362/366 -> 327/330 ms,
"lukasz" by e-mail 259/260 -> 237/234, "berlin" by e-mail page 50 368/377 -> 340/338.

What the rest costs is reading each match (its row of the index's table, then the customer's
row for the sort keys): "lodz", 41,765 matches, 28,316 blocks of the index's table and some
41,765 look-ups in the customers' primary key. Measured and not built (EXPLAIN ANALYZE,
alternated, at a million, load 5 to 7): the sort keys kept beside the terms (one row read a
match, no customer) 293-323 ms against 527-535 for "lodz", but filling them costs the import
a look-up a row (a trigger: 100,000 rows into the index's table 2.9-3.5 s against 0.8-0.9
without; an INSERT ... SELECT joined to the customers: 22.6-24.3 s against 16.0-17.0 with the
GIN index) and every write path of a name, an e-mail or a date must keep them; a covering
index from the id to the sort keys (index-only, no customer row) no faster (the index's leaf
pages are read instead); the matches as a hash joined to a walk of the sort order's index
(the first Polish name is 133,256th in the name order: the walk passes the whole index).
Below 50 ms at tens of thousands of matches needs an index that yields matches in a sort
order (RUM, an extension); more memory does not do it: with 2 GB of shared buffers (the
bench's server has 256 MB) every block of "lodz" was a hit and the read took as long (523-597
ms at load 15): the cost is the work a match, not the reads.
"""

from itertools import count

from sqlalchemy import ColumnElement, Select, cast, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..routing import database_id
from . import paging
from .listing import (
    FILTER_KEYS,
    SORT_INDEXES,
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

COUNT_UP_TO = 10_000
WALK_CHUNK = 500
# A walk stops past max(2 x the customers it expects to pass (page x page size / the share
# that matches), 5,000), and the matches are read by id instead.
WALK_SLACK, WALK_GIVE_UP = 2, 5_000
SEARCH_WALK_FROM = 10_000
# What reading a match by id costs, in SQLite's virtual machine steps of a walk (measured on a
# million: some 1.8 us a match read by id and sorted, some 30 us a thousand steps of a walk).
WALK_STEPS_PER_MATCH = 60
STEP_GRAIN = 1000  # the steps between two looks at the budget
# PostgreSQL: what reading a match by id costs in rows of a walk (a match read by id is a
# recheck in the index's table and a customer read; a row walked is an index entry and a look
# at its terms by primary key: measured at a million under load, "lodz" 15 us a match by id
# against 16 a row walked in the name order, some 30 in the e-mail order, whose index holds
# no id).
WALK_ROWS_PER_MATCH = 0.5


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


def _counted_in_vectors(words: list[tuple[str, ...]]) -> tuple[int, bool]:
    """PostgreSQL: (live customers matching, up to COUNT_UP_TO; whether more do), counted in
    the search index's table, which stops after COUNT_UP_TO + 1 + the trash's size; the trash's
    matches (read through the trash's ids) are taken off after."""
    trashed = paging.register_stamp()[4]
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


def estimated_matches(words: list[tuple[str, ...]]) -> int:
    """PostgreSQL: the planner's estimate of the customers these words match (no row read)."""
    plan = db.session.execute(text(
        "EXPLAIN (FORMAT JSON) SELECT customer_id FROM customer_search_vectors "
        "WHERE terms @@ CAST(:query AS tsquery)"), {"query": prefix_query(words)}).scalar()
    assert plan is not None
    return int(plan[0]["Plan"]["Plan Rows"])


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


def search_count(args: MultiDict, words: list[tuple[str, ...]]) -> tuple[int, bool]:
    """(how many customers match, whether more do): exact from SQLite's full-text index for
    words of three letters or more, else counted up to COUNT_UP_TO."""
    if not _sqlite() and database_id(args.get("q", "")) is None:
        return _counted_in_vectors(words)
    if _sqlite() and not _short(words) and database_id(args.get("q", "")) is None:
        found = db.session.scalar(select(func.count()).select_from(customer_search)
                                  .where(text_match(words)))
        if found and paging.register_stamp()[4]:  # customers in the trash: take theirs off
            found -= db.session.scalar(select(func.count()).select_from(Customer).where(
                Customer.deleted_at.is_not(None),
                Customer.id.in_(select(customer_search.c.rowid).where(text_match(words)))))
        return found, False
    counted = db.session.scalar(select(func.count()).select_from(
        matches_by_index(args, words).limit(COUNT_UP_TO + 1).subquery()))
    return min(counted, COUNT_UP_TO), counted > COUNT_UP_TO


def search_page(args: MultiDict, words: list[tuple[str, ...]], page: int,
                per_page: int) -> tuple[Page | None, int, bool]:
    """(the page, walked to, or None when reading the matches by id costs less; the count;
    whether more match than counted)."""
    if not _sqlite() and not _short(words) and database_id(args.get("q", "")) is None:
        found = _longer_words_on_postgresql(args, words, page, per_page)
        return found, found.total, found.more
    total, more = search_count(args, words)
    pages = max((total + per_page - 1) // per_page, 1)
    page = max(page, 1) if more else min(max(page, 1), pages)
    if not _short(words):
        return None, total, more
    walked = page * per_page * count_customers(MultiDict()) / max(total, 1)
    key, descending = parse_sort(args.get("sort"))
    columns = SORTS[key]
    order = [column.desc() if descending else column.asc() for column in columns]
    number = database_id(args.get("q", ""))
    skip, last, matched, passed = (page - 1) * per_page, None, [], 0
    # The matches may cluster far down the order ("lodz" in the name order: Polish names come
    # after the A to J of the others): past twice the walk expected, read them by id instead.
    give_up = max(WALK_SLACK * walked, WALK_GIVE_UP)
    if not _sqlite():
        ids = walk_postgresql(args, words, skip, per_page, int(give_up) + WALK_CHUNK)
        if ids is None:
            return None, total, more
        return _page_of(ids, total, page, pages, per_page, more), total, more
    while len(matched) < per_page:
        if passed > give_up:
            return None, total, more
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
    return _page_of(matched, total, page, pages, per_page, more), total, more


def _customers(ids: list[int]) -> list[Customer]:
    """The customers with these ids, in this order."""
    found = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)))}
    return [found[customer_id] for customer_id in ids]


def _page_of(ids: list[int], total: int, page: int, pages: int, per_page: int,
             more: bool) -> Page:
    return Page(_customers(ids), total, page, pages, per_page, more)


def walked_within_bound(args: MultiDict, total: int, offset: int,
                        per_page: int) -> list[Customer] | None:
    """A page of a search of longer words that many customers match, found by walking the
    sort order's index and keeping the matches (SQLite), stopped once it has cost what reading
    the matches by id would; None then (or when the search matches too few for a walk to pay),
    so that the page is read by id."""
    key, descending = parse_sort(args.get("sort"))
    if not _sqlite() or total < SEARCH_WALK_FROM or key not in SORT_INDEXES:
        return None
    order = [column.desc() if descending else column.asc() for column in SORTS[key]]
    query = (apply_filters(select(Customer.id), args, walk_order=True)
             .order_by(*order).offset(offset).limit(per_page))
    connection = db.session.connection().connection.driver_connection
    assert connection is not None  # checked out for this session
    steps = count()
    budget = WALK_STEPS_PER_MATCH * total // STEP_GRAIN
    connection.set_progress_handler(lambda: next(steps) >= budget, STEP_GRAIN)
    try:
        ids = list(db.session.scalars(query))
    except OperationalError as error:
        if "interrupted" not in str(error.orig):
            raise
        return None
    finally:
        connection.set_progress_handler(None, 0)
    return _customers(ids)


def _longer_words_on_postgresql(args: MultiDict, words: list[tuple[str, ...]], page: int,
                                per_page: int) -> Page:
    """PostgreSQL: a page of a search of longer words alone. When the planner expects many
    matches, walked to within what reading the matches by id would cost, and counted (up to
    the cap) once the walk has found the page; else (or when the walk gives up, or finds
    nothing: a page past the end) read by id and counted in that statement, with no count
    before it (which reads up to COUNT_UP_TO matches: "lodz" at a million, 41,765 matches, a
    count and a walk that gives up before its Polish names spent a third of the request)."""
    matches = max(estimated_matches(words), 1)
    key, _descending = parse_sort(args.get("sort"))
    if matches >= SEARCH_WALK_FROM and key in SORT_INDEXES:
        offset = (max(page, 1) - 1) * per_page
        expected = (offset + per_page) * count_customers(MultiDict()) // matches
        if expected <= WALK_ROWS_PER_MATCH * matches:
            # The matches may cluster far down the order ("lodz" in the name order): past
            # twice the walk expected, read them by id instead.
            bound = int(min(WALK_ROWS_PER_MATCH * matches,
                            max(WALK_SLACK * expected, WALK_GIVE_UP)))
            ids = walk_postgresql(args, words, offset, per_page, bound)
            if ids:
                total, more = _counted_in_vectors(words)
                pages = max((total + per_page - 1) // per_page, 1)
                return _page_of(ids, total, max(page, 1), pages, per_page, more)
    return _read_by_id(args, page, per_page)


def _read_by_id(args: MultiDict, page: int, per_page: int) -> Page:
    """PostgreSQL: a page of a search's matches read by id and sorted, counted by the same
    statement (a window over the matches: each is read once, not once more for a count).
    The count is shown up to COUNT_UP_TO, as a walked search's is."""
    key, descending = parse_sort(args.get("sort"))
    order = [column.desc() if descending else column.asc() for column in SORTS[key]]
    query = apply_filters(select(Customer.id, func.count().over()), args).order_by(*order)
    page = max(page, 1)
    rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    found = rows[0][1] if rows else 0
    if not rows and page > 1:  # past the end: the last page, unless more match than shown
        found = db.session.scalar(apply_filters(select(func.count(Customer.id)), args))
        if 0 < found <= COUNT_UP_TO:
            page = (found + per_page - 1) // per_page
            rows = db.session.execute(
                query.offset((page - 1) * per_page).limit(per_page)).all()
        else:
            page = 1 if not found else page
    total, more = min(found, COUNT_UP_TO), found > COUNT_UP_TO
    pages = max((total + per_page - 1) // per_page, 1)
    return _page_of([row[0] for row in rows], total, page, pages, per_page, more)
