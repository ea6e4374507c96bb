"""Deep pages of a search of one or two letters, on both databases: placed from every match's id
(on PostgreSQL from the word's kept bitmap, common_lexemes.prefix_matches) they hold what a plain
query gives, before and after customers are added, changed, trashed and erased, as kept
matches and as a new search; a walk that meets no match gives up soon; the kept ids survive a
change of the stamp that writes no customer (a sign-in)."""

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from shopadmin.audit import record_event
from shopadmin.customers import (
    common_lexemes,
    common_lexemes_job,
    paging,
    search_pages,
    search_segments,
)
from shopadmin.customers.common_lexemes import common_matches, prefix_matches
from shopadmin.customers.kept_searches import forget_kept_matches, kept_here
from shopadmin.customers.listing import list_customers
from shopadmin.customers.privacy import erase_customer
from shopadmin.customers.search import prefix_query, query_words
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import delete_customer
from shopadmin.extensions import db

from ..factories import make_customer, make_staff
from .test_customer_list_paging import in_order, register

SHORT_WORDS = ("mu", "k", "no", "a")
SORTS = ("name", "-email", "number", "-created")


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _every_page(args: dict, per_page: int = 3) -> list[int]:
    first = list_customers(MultiDict(args), 1, per_page)
    return [customer.id for number in range(1, first.pages + 1)
            for customer in list_customers(MultiDict(args), number, per_page).customers]


def _keep_lexemes() -> None:
    """PostgreSQL: the worker's job, with lexemes of a few customers counted common."""
    if _postgresql():
        db.session.execute(text("ANALYZE customer_search_vectors"))
        assert common_lexemes_job.refresh_common_lexemes()
        db.session.commit()


def _by_index(word: str) -> list[int]:
    return sorted(common_lexemes._ids_of(prefix_query(query_words(word))))


@pytest.fixture
def placed(app, monkeypatch):
    """Segments of 3 customers, every page of a short search placed from its matches' ids."""
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)
    monkeypatch.setattr(search_pages, "WALK_AT_MOST", 0)
    monkeypatch.setattr(search_pages, "SQLITE_WALK_AT_MOST", 0)
    monkeypatch.setattr(common_lexemes_job, "COMMON_FROM", 3)


def _check_every_page(note: str) -> None:
    for query in SHORT_WORDS:
        for sort in SORTS:
            args = {"q": query, "sort": sort}
            expected = in_order(args)
            assert _every_page(args) == expected, (note, query, sort)
            forget_kept_matches()  # (and as a new search)
            assert _every_page(args) == expected, (note, "new", query, sort)


def test_a_deep_page_of_a_short_search_holds_what_a_plain_query_gives_after_changes(placed):
    customers = register(40)
    _keep_lexemes()
    if _postgresql():
        for word in ("mu", "k", "a"):
            found = prefix_matches(word, paging.register_stamp())
            assert found is not None and sorted(found) == _by_index(word), word
    _check_every_page("before")
    admin = make_staff("admin")
    muller = make_customer(first_name="Mia", last_name="Muster", email="mia@shop.test")
    update_customer(next(c for c in customers if c.last_name == "Müller"),
                    {"last_name": "Zed", "first_name": "Ola"}, actor=admin)
    update_customer(next(c for c in customers if c.last_name == "Smith"),
                    {"last_name": "Mueller"}, actor=admin)
    delete_customer(next(c for c in customers if c.last_name == "Müller"), actor=admin)
    erase_customer(next(c for c in customers if c.last_name == "Nowak"), actor=admin)
    db.session.commit()
    if _postgresql():  # (the bitmaps as kept, moved along by the customers written since)
        for word in ("mu", "k", "no", "a"):
            found = prefix_matches(word, paging.register_stamp())
            assert found is not None and sorted(found) == _by_index(word), word
        assert muller.id in _by_index("mu")
    _check_every_page("after")


def test_the_bitmaps_are_kept_by_the_job_for_common_prefixes_only(placed, monkeypatch):
    if not _postgresql():
        pytest.skip("PostgreSQL's kept lexemes (DATABASE_URL)")
    register(40)
    _keep_lexemes()
    kept = set(db.session.scalars(text("SELECT lexeme FROM customer_search_common")))
    assert {"^m", "^mu", "^k", "^a"} <= kept and not common_lexemes_job.stale()
    assert common_lexemes.prefix_count("mu") == len(_by_index("mu"))
    assert prefix_matches("qq", paging.register_stamp()) is None
    assert common_lexemes.prefix_count("qq") is None
    # Too many customers written since: the GIN index answers, as before.
    monkeypatch.setattr(common_lexemes, "TESTED_AT_MOST", 0)
    make_customer(first_name="Mia", last_name="Muster", email="mia@shop.test")
    assert prefix_matches("mu", paging.register_stamp()) is None
    assert _every_page({"q": "mu", "sort": "-email"}) == in_order({"q": "mu", "sort": "-email"})


def test_the_kept_ids_are_used_after_a_change_of_the_stamp_that_writes_no_customer(
        placed, monkeypatch):
    """The customers written in the moments before the kept stamp's latest change are looked
    at again at every later stamp (a late commit may stamp them so): those the job saw there
    are left out unless their stamp moved. Before, a sign-in's audit event after an import
    named all of its last moments' customers changed, and the kept ids went unused."""
    if not _postgresql():
        pytest.skip("PostgreSQL's kept lexemes (DATABASE_URL)")
    customers = register(40)
    for customer in customers[:10]:  # (written a moment ago, as an import's last batch)
        update_customer(customer, {"notes": "imported"}, actor=None)
    db.session.commit()
    _keep_lexemes()
    monkeypatch.setattr(common_lexemes, "TESTED_AT_MOST", 2)
    staff = make_staff("staff")
    # (an audit event of no customer: the stamp moves)
    record_event("auth.sign_in", "staff_user", staff.id, actor=staff)
    db.session.commit()
    stamp = paging.register_stamp()
    assert common_lexemes._changed(common_lexemes._stamp_of(db.session.scalar(text(
        "SELECT stamp FROM customer_search_common LIMIT 1"))), stamp) == set()
    assert sorted(common_matches([("nowak",)], stamp)) == _by_index("nowak")
    assert sorted(prefix_matches("mu", stamp)) == _by_index("mu")
    # A customer of that window written again is tested again by id.
    update_customer(customers[0], {"last_name": "Mueller"}, actor=None)
    db.session.commit()
    assert sorted(prefix_matches("mu", paging.register_stamp())) == _by_index("mu")
    assert customers[0].id in _by_index("mu")


def test_a_walk_that_meets_no_match_gives_up_soon_and_is_placed(app, monkeypatch):
    """SQLite walks a short search's order chunk by chunk: past WALK_PROBE customers without
    the share of matches the page needs it stops and places the page from the matches' ids
    (which it keeps), well before its give-up point; the page is the same."""
    if _postgresql():
        pytest.skip("SQLite's walk (PostgreSQL's is one statement)")
    register(40)
    for number in range(5):  # (their e-mail addresses sort last)
        make_customer(first_name="Ola", last_name="Zed", email=f"zz{number}@qx-shop.test")
    # The walk expects the page within 3 x 45 / 5 = 27 customers and gives up past twice
    # that, beyond the register's end; past 20 without a match, at that share the page's
    # 3 matches lie past 60.
    monkeypatch.setattr(search_pages, "WALK_CHUNK", 4)
    monkeypatch.setattr(search_pages, "WALK_PROBE", 20)
    monkeypatch.setattr(search_pages, "WALK_GIVE_UP", 0)
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)
    args = {"q": "zz", "sort": "email"}
    page = list_customers(MultiDict(args), 1, 3)
    assert kept_here([("zz",)]) == 5  # placed from the matches' ids, not walked to the end
    assert [customer.id for customer in page.customers] == in_order(args)[:3]
    assert _every_page(args) == in_order(args)
