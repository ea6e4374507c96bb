"""A search of short words alone on PostgreSQL: counted in the search index's table up to a cap
(the trash's matches taken off), and paged by a walk of the sort order's index bounded in rows;
every page holds what reading the matches by id gives, and a walk that ends before its page says
so. (Longer words: test_customer_search_segments.)"""

import pytest
from werkzeug.datastructures import MultiDict

from shopadmin.customers import search_pages
from shopadmin.customers.listing import SORTS
from shopadmin.customers.search import query_words
from shopadmin.customers.trash import delete_customer
from shopadmin.extensions import db

from ..factories import make_customer, make_staff
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


def test_a_deep_page_is_placed_through_the_segments_and_counted_as_the_walk_counts(
        on_postgresql, monkeypatch):
    """A page the walk would look for far down the order (or gave up on) is placed through the
    segments from every match's id: each page holds what an offset gives, counted up to the
    cap as before; past the end, the last page."""
    from shopadmin.customers import paging, search_segments
    from shopadmin.customers.listing import list_customers
    from shopadmin.customers.search_pages import walk_postgresql

    customers = register(40)
    delete_customer(customers[3], actor=make_staff("admin"))
    db.session.commit()
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)
    monkeypatch.setattr(search_pages, "WALK_AT_MOST", 0)
    placed = []
    monkeypatch.setattr(search_pages, "segment_page", lambda *args: placed.append(args[1])
                        or search_segments.segment_page(*args))
    for sort in ("name", "-email", "created"):
        for query in ("mu", "k", "a n", str(customers[30].id)):
            args = {"q": query, "sort": sort}
            expected = in_order(args)
            first = list_customers(MultiDict(args), 1, 4)
            shown = [c.id for n in range(1, first.pages + 1)
                     for c in list_customers(MultiDict(args), n, 4).customers]
            assert shown == expected and (first.total, first.more) == (len(expected), False)
            past = list_customers(MultiDict(args), first.pages + 5, 4)
            assert [c.id for c in past.customers] == expected[(first.pages - 1) * 4:]
    assert [("mu",)] in placed and [("a",), ("n",)] in placed
    # Matches this process keeps (fewer than a tenth of the register) are placed without a
    # walk at any page; a word most customers match is walked.
    for n in range(3):
        make_customer(first_name="Quentin", last_name=f"Quarry {n}", email=f"q{n}@shop.test")
    db.session.commit()
    for query in ("qu", "k"):
        monkeypatch.setattr(search_pages, "WALK_AT_MOST", 0)  # (placed: its matches kept)
        list_customers(MultiDict({"q": query, "sort": "-email"}), 1, 2)
        monkeypatch.setattr(search_pages, "WALK_AT_MOST", 10**9)
        placed.clear()
        monkeypatch.setattr(search_pages, "walk_postgresql", lambda *args: placed.append("walk")
                            or walk_postgresql(*args))
        for sort in ("name", "-email"):
            args = {"q": query, "sort": sort}
            expected = in_order(args)
            shown = [c.id for n in (1, 2) for c in list_customers(MultiDict(args), n, 2).customers]
            assert shown == expected[:4]
        assert placed == ([[("qu",)]] * 4 if query == "qu" else ["walk"] * 4), query
        monkeypatch.setattr(search_pages, "walk_postgresql", walk_postgresql)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", 5)
    everyone = in_order({"q": "k"})
    assert len(everyone) > 12
    for number in (1, 2, 3):
        page = list_customers(MultiDict({"q": "k"}), number, 4)
        assert [c.id for c in page.customers] == everyone[(number - 1) * 4:number * 4]
        assert (page.total, page.more, page.page) == (5, True, number)
