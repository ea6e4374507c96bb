"""A search of longer words on both databases: placed through the register's segments when it
matches many, read by id when few; either way every page holds what an offset over the sorted
matches gives, counted exactly, and a change of the register is seen at once."""

import socket

import pytest
from werkzeug.datastructures import MultiDict

from shopadmin.customers import changes, kept_searches, paging, positions, search_segments
from shopadmin.customers.listing import SORTS, list_customers
from shopadmin.customers.privacy import erase_customer
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import delete_customer, restore_customer
from shopadmin.extensions import db

from ..factories import make_customer, make_staff
from ..statements import Statements, change_reads
from .test_customer_list_paging import in_order, register

SORT_ORDERS = [*SORTS, *(f"-{key}" for key in SORTS)]
QUERIES = ("nowak", "anna", "zoe muller", "lukasz dup", "qqxzv")


def every_page(args: dict, per_page: int = 4) -> tuple[list[int], int]:
    """The ids shown on every page in turn, and the count the first page gives."""
    first = list_customers(MultiDict(args), 1, per_page)
    assert first.more is False
    return [customer.id for number in range(1, first.pages + 1)
            for customer in list_customers(MultiDict(args), number, per_page).customers], \
        first.total


@pytest.fixture
def small_segments(monkeypatch):
    """Segments of 3 customers and no lower bound on the matches: a register of dozens is
    placed as a million's is."""
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)


@pytest.mark.parametrize("through_segments", [True, False])
def test_every_page_of_a_search_holds_what_an_offset_gives(app, monkeypatch, through_segments):
    customers = register(50)
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1 if through_segments else 10**6)
    delete_customer(customers[4], actor=make_staff("admin"))
    db.session.commit()
    for sort in SORT_ORDERS:
        for query in (*QUERIES, str(customers[30].id)):
            args = {"q": query, "sort": sort}
            expected = in_order(args)
            assert every_page(args) == (expected, len(expected)), (sort, query)
    assert customers[4].id not in in_order({"q": "nowak"})
    # The segments were used (and kept, as the deep pages keep them) only when asked for.
    assert bool(positions._lists.get(db.engine)) is through_segments


def test_a_page_past_the_end_is_the_last_page(app, small_segments):
    register(30)
    expected = in_order({"q": "nowak"})
    last = (len(expected) + 3) // 4
    for query in ("nowak", "qqxzv"):
        beyond = list_customers(MultiDict({"q": query}), last + 5, 4)
        matching = in_order({"q": query})
        assert beyond.total == len(matching)
        assert [c.id for c in beyond.customers] == matching[(beyond.page - 1) * 4:][:4]
    assert list_customers(MultiDict({"q": "nowak"}), last + 5, 4).page == last


def test_a_change_of_the_register_moves_a_search_at_once(app, small_segments):
    customers = register(40)
    admin = make_staff("admin")
    for sort in ("name", "-email", "modified"):
        assert every_page({"q": "nowak", "sort": sort})[0] == in_order(
            {"q": "nowak", "sort": sort})
    # A new match, a match renamed to the front and one renamed away, one in the trash.
    make_customer(first_name="Aaron", last_name="Nowak", email="aaron@shop.test")
    nowaks = [c for c in customers if c.last_name == "Nowak"]
    update_customer(nowaks[0], {"first_name": "Aaberg"}, actor=admin)
    update_customer(nowaks[1], {"last_name": "Smith"}, actor=admin)
    update_customer(next(c for c in customers if c.last_name == "Dupont"),
                    {"last_name": "Nowak"}, actor=admin)
    db.session.commit()
    delete_customer(nowaks[2], actor=admin)
    db.session.commit()
    for sort in ("name", "-email", "modified"):
        args = {"q": "nowak", "sort": sort}
        expected = in_order(args)
        assert every_page(args) == (expected, len(expected)), sort
    assert nowaks[2].id not in expected and nowaks[1].id not in expected


def test_an_order_of_text_the_database_collates_otherwise_is_read_by_id(
        app, small_segments, monkeypatch):
    """Where the database orders text unlike Python (a PostgreSQL collation other than C),
    segments of a text order are placed anew after every change: a search sorted by one reads
    its matches by id instead, and one sorted by a date still goes through the segments."""
    register(30)
    monkeypatch.setattr(positions, "_byte_ordered", lambda: False)
    for sort in ("name", "-email", "number"):
        expected = in_order({"q": "nowak", "sort": sort})
        assert every_page({"q": "nowak", "sort": sort}) == (expected, len(expected))
    assert not positions._lists.get(db.engine)
    expected = in_order({"q": "nowak", "sort": "-created"})
    assert every_page({"q": "nowak", "sort": "-created"}) == (expected, len(expected))
    assert [key[1:] for key in positions._lists[db.engine]] == [("created", True)]


def test_a_new_web_process_places_the_default_order_before_anyone_asks(app, monkeypatch):
    """gunicorn's post_worker_init hook places the unfiltered list's default order in a thread
    of its own; the first search or deep page then finds it placed and up to date."""
    from shopadmin import serving
    from shopadmin.customers import listing

    register(12)
    monkeypatch.setattr(listing, "WALK_SORT_INDEX_ABOVE", 20)
    assert listing.place_default_order(app) is False  # a small register pages without them
    monkeypatch.setattr(listing, "WALK_SORT_INDEX_ABOVE", 5)
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)

    class Worker:  # what gunicorn hands its hook: the worker, with the app it loaded
        wsgi = app

    placing = serving.post_worker_init(Worker())
    placing.join(timeout=30)
    assert not placing.is_alive()
    placed = positions._kept_lists().get(
        (paging.filters_key(MultiDict()), listing.DEFAULT_SORT, False))
    assert placed is not None
    assert placed.stamp == paging.register_stamp() and placed.total == 12


def lists_every_match(statement: str) -> bool:
    """Whether a statement lists every match of a search (matching_ids)."""
    return ("group_concat(customer_search.rowid)" in statement
            or "array_agg(customer_search_vectors.customer_id)" in statement)


def test_a_search_keeps_its_matches_and_moves_them_along_with_changes(app, small_segments,
                                                                     monkeypatch):
    """Paging a search or sorting it another way reads its matches once; after changes only
    the customers written since are tested again, and every page still holds what an offset
    gives; too many changes read the matches anew."""
    customers = register(40)
    admin = make_staff("admin")
    with Statements(lists_every_match) as statements:
        for sort in ("name", "-email", "modified"):
            expected = in_order({"q": "nowak", "sort": sort})
            assert every_page({"q": "nowak", "sort": sort}) == (expected, len(expected))
    assert statements.count == 1
    nowaks = [c for c in customers if c.last_name == "Nowak"]
    make_customer(first_name="Aaron", last_name="Nowak", email="aaron@shop.test")
    update_customer(nowaks[0], {"last_name": "Smith"}, actor=admin)
    update_customer(next(c for c in customers if c.last_name == "Dupont"),
                    {"last_name": "Nowak"}, actor=admin)
    db.session.commit()
    delete_customer(nowaks[1], actor=admin)
    db.session.commit()
    erase_customer(nowaks[2], actor=admin)
    db.session.commit()
    with Statements(lists_every_match) as statements:
        for sort in ("name", "-email", "modified"):
            args = {"q": "nowak", "sort": sort}
            expected = in_order(args)
            assert every_page(args) == (expected, len(expected)), sort
    assert statements.count == 0
    assert {nowaks[0].id, nowaks[1].id} & set(expected) == set()
    restore_customer(nowaks[1], actor=admin)
    db.session.commit()
    with Statements(lists_every_match) as statements:
        expected = in_order({"q": "nowak"})
        assert nowaks[1].id in expected
        assert every_page({"q": "nowak"}) == (expected, len(expected))
    assert statements.count == 0
    # More changes than are moved one by one: the matches are read again.
    monkeypatch.setattr(changes, "REPAIR_AT_MOST", 1)
    for customer in customers[:3]:
        update_customer(customer, {"last_name": "Nowak"}, actor=admin)
    db.session.commit()
    with Statements(lists_every_match) as statements:
        expected = in_order({"q": "nowak"})
        assert every_page({"q": "nowak"}) == (expected, len(expected))
    assert statements.count == 1


def test_the_searches_kept_are_bounded_in_number_and_in_matches(app, small_segments,
                                                               monkeypatch):
    register(30)
    monkeypatch.setattr(kept_searches, "KEPT_SEARCHES", 2)
    for query in ("nowak", "anna", "smith"):
        every_page({"q": query})
    kept = kept_searches._kept[db.engine]
    assert list(kept) == [(("anna",),), (("smith",),)]
    monkeypatch.setattr(kept_searches, "KEPT_MATCHES", len(kept[(("smith",),)].ids))
    every_page({"q": "dupont"})
    assert list(kept) == [(("dupont",),)]  # the latest is kept whatever its size
    with Statements(lists_every_match) as statements:
        every_page({"q": "dupont"})
    assert statements.count == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_another_process_finds_a_search_kept_in_redis(app, small_segments):
    """With REDIS_URL, a search read in one web process is found by the others (here: this
    process's own kept searches forgotten), and moved along with the changes since."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("Redis's leg (REDIS_URL)")
    customers = register(30)
    with Statements(lists_every_match) as statements:
        every_page({"q": "nowak"})
        kept_searches._kept.pop(db.engine)
        expected = in_order({"q": "nowak", "sort": "-email"})
        assert every_page({"q": "nowak", "sort": "-email"}) == (expected, len(expected))
    assert statements.count == 1
    update_customer(next(c for c in customers if c.last_name == "Dupont"),
                    {"last_name": "Nowak"}, actor=make_staff("admin"))
    db.session.commit()
    kept_searches._kept.pop(db.engine)
    with Statements(lists_every_match) as statements:
        expected = in_order({"q": "nowak"})
        assert every_page({"q": "nowak"}) == (expected, len(expected))
    assert statements.count == 0
    kept_searches.forget_kept_matches()
    with Statements(lists_every_match) as statements:
        every_page({"q": "nowak"})
    assert statements.count == 1


def test_a_search_answers_from_the_database_when_redis_is_away(app, small_segments,
                                                              monkeypatch, caplog):
    """A Redis that does not answer leaves the searches to the database (and is left alone for
    a while: one warning, not one a request)."""
    register(30)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    monkeypatch.setattr(kept_searches, "_away_until", [0.0])
    for query in ("nowak", "anna"):
        for sort in ("name", "-email"):
            expected = in_order({"q": query, "sort": sort})
            assert every_page({"q": query, "sort": sort}) == (expected, len(expected))
    assert caplog.text.count("kept searches: Redis unreachable") == 1


def test_a_search_moved_past_a_requests_stamp_is_not_read_again(app, small_segments):
    """A thread that read its stamp before another moved the search's matches past it found
    the register 'gone back' and read every match again (under an import, each time): the
    matches are moved to the register as it is now."""
    register(30)
    words = [("nowak",)]
    earlier = paging.register_stamp()
    added = make_customer(last_name="Nowak", email="nowak.later@shop.test")
    later = paging.register_stamp()
    reads: list[int] = []

    def read(words):
        reads.append(1)
        return search_segments.matching_ids(words, later)

    found = kept_searches.kept_matches(words, later, read)
    assert added.id in found.ids and len(reads) == 1
    again = kept_searches.kept_matches(words, earlier, read)  # (Redis's copy on its leg)
    assert list(again.ids) == list(found.ids) and again.stamp == found.stamp
    assert len(reads) == 1


def test_a_search_the_feed_moves_along_is_not_replaced_by_redis_s_copy(app, small_segments):
    """On PostgreSQL a kept search moves along by the process's feed of changes (one read of
    the changes since a stamp for all that is kept); Redis's copy of it, whose window this
    process does not know, would read its own changes again at every request."""
    if not app.config.get("REDIS_URL") or db.engine.dialect.name != "postgresql":
        pytest.skip("Redis's leg (REDIS_URL), on PostgreSQL")
    customers = register(30)
    admin = make_staff("admin")
    words = [("nowak",)]

    def read(words):
        return search_segments.matching_ids(words, paging.register_stamp())

    kept_searches.kept_matches(words, paging.register_stamp(), read)
    for number, customer in enumerate(c for c in customers if c.last_name == "Dupont"):
        update_customer(customer, {"last_name": "Nowak"}, actor=admin)
        db.session.commit()
        with change_reads() as reads:
            found = kept_searches.kept_matches(words, paging.register_stamp(), read)
        assert sorted(found.ids) == sorted(read(words))
        if number:  # (the first: its own look since it was read, then the feed's)
            assert reads.count == 1
