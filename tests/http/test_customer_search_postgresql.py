"""A search alone on PostgreSQL: counted in the search index's table up to a cap (the trash's
matches taken off), and paged by a walk of the sort order's index bounded in rows; every page
holds what reading the matches by id gives, and a walk that ends before its page says so."""

import pytest
from werkzeug.datastructures import MultiDict

from shopadmin.customers import search_pages
from shopadmin.customers.listing import SORTS, list_customers
from shopadmin.customers.search import query_words
from shopadmin.customers.trash import delete_customer
from shopadmin.extensions import db

from ..factories import make_staff
from .test_customer_list_paging import in_order, register

SORT_ORDERS = [*SORTS, *(f"-{key}" for key in SORTS)]


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's search paths (DATABASE_URL)")


def test_a_bounded_walk_gives_the_page_or_says_it_ended_before_it(on_postgresql):
    customers = register(40)
    delete_customer(customers[2], actor=make_staff("admin"))
    db.session.commit()
    for sort in SORT_ORDERS:
        for query in ("mu", "k", "nowak", "anna dup", str(customers[30].id)):
            args = MultiDict({"q": query, "sort": sort})
            words = query_words(query)
            expected = in_order({"q": query, "sort": sort})
            for offset in (0, 3, len(expected) - 2):
                page = expected[offset:offset + 4]
                walked = search_pages.walk_postgresql(args, words, offset, 4, 100)
                assert walked == page, (sort, query, offset)
                # Walking fewer customers than the page lies past gives up (None), never a
                # shorter page; a walk that reaches the page's end gives a full page (a last,
                # shorter one only from a walk of the whole register).
                everyone = in_order({"sort": sort})
                position = everyone.index(page[-1]) if page else 0
                short = search_pages.walk_postgresql(args, words, offset, 4, position)
                assert short is None, (sort, query, offset)
                reached = search_pages.walk_postgresql(args, words, offset, 4, position + 1)
                whole = len(page) == 4 or position + 1 >= len(everyone)
                assert reached == (page if whole else None), (sort, query, offset)
    assert customers[2].id not in in_order({"q": "k"})


def test_a_search_is_counted_up_to_a_cap_without_the_trash(on_postgresql, monkeypatch):
    customers = register(40)
    matching = in_order({"q": "k"})
    delete_customer(customers[matching[0] - customers[0].id], actor=make_staff("admin"))
    db.session.commit()
    live = in_order({"q": "k"})
    assert len(live) == len(matching) - 1
    assert search_pages.search_count(MultiDict({"q": "k"}), [("k",)]) == (len(live), False)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", len(live))
    assert search_pages.search_count(MultiDict({"q": "k"}), [("k",)]) == (len(live), False)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", len(live) - 1)
    assert search_pages.search_count(MultiDict({"q": "k"}), [("k",)]) == (len(live) - 1, True)
    assert search_pages.estimated_matches([("nowak",)]) >= 1


@pytest.mark.parametrize("rows_per_match", [1000, 0])
def test_a_search_that_matches_more_than_counted_is_walked_or_read_by_id(
        on_postgresql, monkeypatch, rows_per_match):
    """Counted past its cap, a search of longer words is walked (when the estimate says the
    walk costs less) or read by id: every page in the list's order either way."""
    register(60)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", 5)
    monkeypatch.setattr(search_pages, "SEARCH_WALK_FROM", 5)
    monkeypatch.setattr(search_pages, "WALK_GIVE_UP", 100 if rows_per_match else 0)
    monkeypatch.setattr(search_pages, "WALK_ROWS_PER_MATCH", rows_per_match)
    walked = []
    original = search_pages.walk_postgresql

    def noting(*args, **kwargs):
        found = original(*args, **kwargs)
        walked.append(found is not None)
        return found
    monkeypatch.setattr(search_pages, "walk_postgresql", noting)
    for sort in SORT_ORDERS:
        for query in ("nowak", "anna", "zoe muller"):
            expected = in_order({"q": query, "sort": sort})
            shown = []
            for number in range(1, (len(expected) + 3) // 4 + 1):
                page = list_customers(MultiDict({"q": query, "sort": sort}), number, 4)
                assert page.more is (len(expected) > 5)
                shown += [customer.id for customer in page.customers]
            assert shown == expected, (sort, query)
    assert any(walked) is (rows_per_match > 0)


def test_a_search_read_by_id_is_counted_by_its_page_and_ends_at_its_last_page(
        on_postgresql, monkeypatch):
    customers = register(40)
    delete_customer(customers[3], actor=make_staff("admin"))
    db.session.commit()
    expected = in_order({"q": "nowak"})
    first = list_customers(MultiDict({"q": "nowak"}), 1, 4)
    assert (first.total, first.more) == (len(expected), False)
    last = (len(expected) + 3) // 4
    beyond = list_customers(MultiDict({"q": "nowak"}), last + 5, 4)
    assert (beyond.page, [c.id for c in beyond.customers]) == (last, expected[(last - 1) * 4:])
    assert list_customers(MultiDict({"q": "qqxzv"}), 3, 4).total == 0
    # More than the cap: counted as "more than", and a page past the matches is empty.
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", 2)
    page = list_customers(MultiDict({"q": "nowak"}), 2, 4)
    assert (page.total, page.more, [c.id for c in page.customers]) == (2, True, expected[4:8])
    assert list_customers(MultiDict({"q": "nowak"}), 99, 4).customers == []


def test_the_email_order_is_walked_from_its_index_alone(on_postgresql):
    """The live customers' e-mail index holds the id: a walk of the e-mail order (a search
    sorted by e-mail) is an index-only scan, and still gives the page reading by id gives."""
    register(40)
    definition = db.session.scalar(db.text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customers_live_email'"))
    assert definition.endswith("INCLUDE (id) WHERE (deleted_at IS NULL)"), definition
    db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
    db.session.execute(db.text("SET LOCAL enable_bitmapscan = off"))
    plan = "\n".join(db.session.scalars(db.text(
        "EXPLAIN SELECT id, email_key FROM customers WHERE deleted_at IS NULL "
        "ORDER BY email_key LIMIT 10")))
    assert "Index Only Scan using ix_customers_live_email" in plan, plan
    for sort in ("email", "-email"):
        expected = in_order({"q": "k", "sort": sort})
        walked = search_pages.walk_postgresql(
            MultiDict({"q": "k", "sort": sort}), [("k",)], 0, 4, 1000)
        assert walked == expected[:4]


def test_a_search_whose_walk_gives_up_is_counted_only_by_the_read_by_id(
        on_postgresql, monkeypatch):
    """A walk that gives up (or a page past the end, which a walk finds empty) goes to the
    read by id, which counts the matches in its own statement: no count before it. A walk
    that finds its page is counted once, in the index's table."""
    customers = register(60)
    delete_customer(customers[0], actor=make_staff("admin"))
    db.session.commit()
    monkeypatch.setattr(search_pages, "SEARCH_WALK_FROM", 5)
    monkeypatch.setattr(search_pages, "WALK_ROWS_PER_MATCH", 1000)
    counted = []
    original = search_pages._counted_in_vectors

    def noting(words):
        counted.append(words)
        return original(words)
    monkeypatch.setattr(search_pages, "_counted_in_vectors", noting)
    expected = in_order({"q": "nowak"})
    # A walk of one customer gives up at once.
    monkeypatch.setattr(search_pages, "WALK_SLACK", 0)
    monkeypatch.setattr(search_pages, "WALK_GIVE_UP", 1)
    page = list_customers(MultiDict({"q": "nowak"}), 2, 4)
    assert ([c.id for c in page.customers], page.total, page.more) == (
        expected[4:8], len(expected), False)
    assert counted == []
    # Walks long enough find their pages, counted once each; past the end: the last page.
    monkeypatch.setattr(search_pages, "WALK_GIVE_UP", 1000)
    for number in (1, 2):
        page = list_customers(MultiDict({"q": "nowak"}), number, 4)
        assert [c.id for c in page.customers] == expected[(number - 1) * 4:number * 4]
        assert page.total == len(expected)
    assert len(counted) == 2
    last = (len(expected) + 3) // 4
    beyond = list_customers(MultiDict({"q": "nowak"}), last + 3, 4)
    assert (beyond.page, [c.id for c in beyond.customers]) == (
        last, expected[(last - 1) * 4:])
    assert len(counted) == 2
