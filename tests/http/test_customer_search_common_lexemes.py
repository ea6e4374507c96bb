"""PostgreSQL: a search of one word through the kept ids of the lexemes many customers share
(common_lexemes) finds exactly what the GIN index finds, before and after the register changes,
and every page still holds what an offset over the sorted matches gives."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from shopadmin.customers import (
    changes,
    common_lexemes,
    common_lexemes_job,
    paging,
    search_pages,
    search_segments,
)
from shopadmin.customers.common_lexemes import common_matches, customer_search_common, more_than
from shopadmin.customers.common_lexemes_job import (
    refresh_common_lexemes,
    refresh_when_stale,
    stale,
)
from shopadmin.customers.listing import list_customers
from shopadmin.customers.privacy import erase_customer
from shopadmin.customers.search import prefix_query, query_words
from shopadmin.customers.search_pages import _counted_in_vectors, search_count
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import delete_customer
from shopadmin.extensions import db
from shopadmin.text import fold_words

from ..factories import make_customer, make_staff
from ..statements import change_reads
from .test_customer_list_paging import in_order, register

QUERIES = ("nowak", "nowa", "now", "anna", "ann", "lukasz", "luk", "muller", "qqxzv",
           "anna nowak", "nowak lukasz", "anna now", "now anna", "anna qqxzv", "anna nowakowsk")


@pytest.fixture
def kept(app, monkeypatch):
    """Lexemes of a few customers count as common; segments of 3 customers."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's kept lexemes (DATABASE_URL)")
    monkeypatch.setattr(common_lexemes_job, "COMMON_FROM", 3)
    monkeypatch.setattr(common_lexemes_job, "QUIET_SECONDS", 0)
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)


def _analyzed_and_kept() -> set[str]:
    db.session.execute(text("ANALYZE customer_search_vectors"))
    assert refresh_common_lexemes() is not None
    db.session.commit()
    return set(db.session.scalars(select(customer_search_common.c.lexeme)))


def _by_index(query: str) -> list[int]:
    """Every customer (the trash's too) the GIN index finds for the search."""
    return sorted(common_lexemes._ids_of(prefix_query(query_words(query))))


def _through_kept(query: str) -> list[int] | None:
    found = common_matches(query_words(query), paging.register_stamp())
    return None if found is None else sorted(found)


def _every_page(args: dict, per_page: int = 4) -> list[int]:
    first = list_customers(MultiDict(args), 1, per_page)
    return [customer.id for number in range(1, first.pages + 1)
            for customer in list_customers(MultiDict(args), number, per_page).customers]


def test_a_word_finds_what_the_index_finds_before_and_after_changes(kept):
    customers = register(40)
    make_customer(first_name="Piotr", last_name="Nowakowski", email="nowakowski@shop.test")
    # Beside 'nowak' through characters other than letters: found by "now" and "nowa".
    for email in ("now.ak@shop.test", "nowa-k@shop.test", "nowa_k+1@shop.test"):
        make_customer(first_name="Ewa", last_name="Zed", email=email)
    db.session.commit()
    lexemes = _analyzed_and_kept()
    assert {"nowak", "anna", "lukasz"} <= lexemes and "nowakowski" not in lexemes
    for query in QUERIES:
        assert _through_kept(query) in (_by_index(query), None), query
    # A kept lexeme's row is the whole answer; a shorter word adds what lies beside it; words
    # that are kept lexemes give the customers of all of them.
    assert _through_kept("nowak") == _by_index("nowak")
    assert _through_kept("now") == _by_index("now")
    assert len(set(_by_index("now")) - set(_by_index("nowak"))) >= 3
    assert _through_kept("anna nowak") == _by_index("anna nowak") != []
    # A shorter word among kept ones: the index's answer for it, narrowed by the kept ones.
    assert _through_kept("anna now") == _by_index("anna now") != []
    assert db.session.get(type(customers[0]), customers[0].id) is not None
    admin = make_staff("admin")
    nowaks = [c for c in customers if c.last_name == "Nowak"]
    make_customer(first_name="Aaron", last_name="Nowak", email="aaron@shop.test")
    update_customer(nowaks[0], {"last_name": "Smith"}, actor=admin)
    update_customer(next(c for c in customers if c.last_name == "Dupont"),
                    {"last_name": "Nowakowska"}, actor=admin)
    delete_customer(nowaks[1], actor=admin)
    erase_customer(nowaks[2], actor=admin)
    db.session.commit()
    for query in QUERIES:
        assert _through_kept(query) in (_by_index(query), None), query
    assert _through_kept("nowa") == _by_index("nowa")
    # Customers written since the ids were kept, in and out of a kept word's customers.
    assert _through_kept("anna now") == _by_index("anna now")
    assert _through_kept("anna nowakowsk") == _by_index("anna nowakowsk")
    for sort in ("name", "-email", "modified"):
        for query in ("nowak", "now", "anna"):
            args = {"q": query, "sort": sort}
            assert _every_page(args) == in_order(args), (sort, query)


def test_too_many_changes_read_the_index_and_the_job_keeps_them_anew(kept, monkeypatch):
    customers = register(30)
    assert "nowak" in _analyzed_and_kept()
    assert not stale() and refresh_when_stale() is None
    monkeypatch.setattr(common_lexemes, "TESTED_AT_MOST", 0)
    monkeypatch.setattr(common_lexemes_job, "REFRESH_AFTER", 0)
    update_customer(next(c for c in customers if c.last_name == "Smith"),
                    {"last_name": "Nowak"}, actor=make_staff("admin"))
    db.session.commit()
    assert _through_kept("nowak") is None
    assert _every_page({"q": "nowak"}) == in_order({"q": "nowak"})
    assert stale() and refresh_when_stale()
    db.session.commit()
    assert not stale()  # (the same stamp: nothing written since)
    assert _through_kept("nowak") == _by_index("nowak")


def test_the_changes_since_the_ids_were_kept_are_moved_along_not_read_again(kept, monkeypatch):
    """Under an import every search through the kept ids read every customer written since
    they were kept (thousands each time); the process moves what it found along from stamp to
    stamp, through its feed of changes: each search reads the customers new since the last."""
    monkeypatch.setattr(changes, "CLOCK_MARGIN", timedelta(milliseconds=200))
    register(30)
    assert "nowak" in _analyzed_and_kept()
    for number in range(4):
        time.sleep(0.3)  # (past the last look's window)
        make_customer(first_name="Jan", last_name="Nowak", email=f"nowak{number}@shop.test")
        db.session.commit()
        with change_reads() as reads:
            assert _through_kept("nowak") == _by_index("nowak")
    assert reads.rows <= 2  # (the newest customer; the last look's newest, in its window)


def test_a_word_beside_a_kept_lexeme_too_common_to_read_so_reads_the_index(kept, monkeypatch):
    register(30)
    assert "nowak" in _analyzed_and_kept()
    monkeypatch.setattr(common_lexemes, "BESIDE_AT_MOST", 0)
    # "now" finds the customers of 'nowak' and of what lies beside it ('nowak' is kept, the
    # e-mail addresses none): more than BESIDE_AT_MOST beside it, read by the index.
    make_customer(first_name="Ola", last_name="Nowicka", email="ola@shop.test")
    db.session.commit()
    assert _through_kept("now") is None
    assert _through_kept("nowak") == _by_index("nowak")
    assert _every_page({"q": "now"}) == in_order({"q": "now"})


def test_several_words_are_narrowed_by_the_kept_ones_unless_the_index_finds_too_many(
        kept, monkeypatch):
    customers = register(30)
    make_customer(first_name="Anna", last_name="Nowakowska", email="an.nowakowska@shop.test")
    make_customer(first_name="Anastazja", last_name="Nowicka", email="anna.n@shop.test")
    make_customer(first_name="Annabel", last_name="Nowy", email="bel@shop.test")
    db.session.commit()
    assert {"anna", "nowak"} <= _analyzed_and_kept()
    # 'annabel' starts with 'anna' (in its kept row); 'an.nowakowska' and Anastazja's
    # first name start with 'an' alone: the prefix lexeme '^an' holds them, the kept ids not.
    for query in ("anna now", "anna nowy", "nowi anna", "anna now nowa"):
        assert _through_kept(query) == _by_index(query) != [], query
    update_customer(customers[0], {"first_name": "Anna", "last_name": "Nowosad"},
                    actor=make_staff("admin"))
    db.session.commit()
    assert customers[0].id in _through_kept("anna now")
    assert _through_kept("anna now") == _by_index("anna now")
    assert _every_page({"q": "anna now"}) == in_order({"q": "anna now"})
    monkeypatch.setattr(common_lexemes, "NARROWED_AT_MOST", 1)
    assert _through_kept("anna now") is None
    assert _every_page({"q": "anna now"}) == in_order({"q": "anna now"})


def test_a_short_word_is_more_than_the_cap_when_a_kept_lexeme_says_so(kept, monkeypatch):
    customers = register(40)
    assert "nowak" in _analyzed_and_kept()
    nowaks = [c for c in customers if c.last_name == "Nowak"]
    stamp = paging.register_stamp()
    # 'nowak' starts with "no" and "n": its customers have a term that starts with either.
    assert more_than("no", len(nowaks) - 1, stamp) and more_than("n", len(nowaks) - 1, stamp)
    assert not more_than("no", len(nowaks), stamp) and not more_than("qq", 0, stamp)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", len(nowaks) - 2)
    assert search_count(MultiDict({"q": "no"}), [("no",)]) == (len(nowaks) - 2, True)
    # Each customer written since, and each in the trash, may be one fewer: the index counts.
    kept_at = common_lexemes._stamp_of(db.session.scalar(
        select(customer_search_common.c.stamp).where(customer_search_common.c.lexeme == "nowak")))
    admin = make_staff("admin")
    for change in (lambda: update_customer(nowaks[0], {"first_name": "Ola"}, actor=admin),
                   lambda: delete_customer(nowaks[1], actor=admin)):
        change()
        db.session.commit()
        now = paging.register_stamp()
        fewer = len(common_lexemes._changed(kept_at, now)) + now[4]
        assert fewer >= 1
        assert more_than("no", len(nowaks) - fewer - 1, now)
        assert not more_than("no", len(nowaks) - fewer, now)
    for query in ("no", "n", "nowak"):
        words = query_words(query)
        assert search_count(MultiDict({"q": query}), words) == _counted_in_vectors(
            words, paging.register_stamp())
    erase_customer(nowaks[2], actor=admin)
    db.session.commit()
    assert not more_than("no", 0, paging.register_stamp())  # (until the job keeps them anew)


def test_the_kept_ids_hold_every_lexeme_that_starts_with_the_kept_one(kept):
    register(30)
    zed = make_customer(first_name="Nowakowski", last_name="Zed", email="zed@shop.test")
    db.session.commit()
    assert "nowak" in _analyzed_and_kept()
    # Zed is found by 'nowakowski' alone, which the kept row of 'nowak' holds.
    assert zed.id in _through_kept("nowak") and _through_kept("nowak") == _by_index("nowak")
    assert _through_kept("nowakowski") is None  # not kept, nor any lexeme that starts with it


def test_the_job_waits_while_the_register_is_written_unless_a_customer_was_forgotten(
        kept, monkeypatch):
    customers = register(30)
    assert "nowak" in _analyzed_and_kept()
    assert not stale()
    monkeypatch.setattr(common_lexemes_job, "QUIET_SECONDS", 3600)
    monkeypatch.setattr(common_lexemes_job, "REFRESH_AFTER", 0)
    admin = make_staff("admin")
    update_customer(customers[0], {"first_name": "Ola"}, actor=admin)
    db.session.commit()
    assert stale() and refresh_when_stale() is None  # (written a moment ago: an import?)
    erase_customer(next(c for c in customers if c.last_name == "Nowak"), actor=admin)
    db.session.commit()
    assert _through_kept("nowak") == _by_index("nowak")
    assert refresh_when_stale()  # (their id leaves the table at once)
    db.session.commit()
    assert _through_kept("nowak") == _by_index("nowak")
    monkeypatch.setattr(common_lexemes_job, "REFRESH_AFTER", 1000)
    assert not stale()


def test_every_character_a_term_may_hold_is_named_beside_a_kept_lexeme():
    everything = "".join(map(chr, range(32, 0x250))) + "ŁłŒœßÆæØø"
    assert set(fold_words(everything)) - {" "} <= set(common_lexemes.ALPHABET)
