"""The customer list's deep pages (anchors) and its kept counts, on SQLite and PostgreSQL: every
page of every sort holds the customers an offset would give, and a change of the register is
seen at once."""

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from shopadmin.customers import paging, positions
from shopadmin.customers.listing import SORTS, count_customers, list_customers
from shopadmin.customers.models import Customer
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import delete_customer
from shopadmin.extensions import db

from ..factories import make_customer, make_staff

PER_PAGE = 4


@pytest.fixture
def small_anchors(monkeypatch):
    """Anchors every 3 customers (fewer for a filtered list) from the second page on, so that
    a register of dozens has deep pages (the same code as a million's: only the distances are
    smaller)."""
    from shopadmin.customers import listing

    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(paging, "DIRECT_OFFSET", PER_PAGE)
    monkeypatch.setattr(listing, "WALK_SORT_INDEX_ABOVE", 0)


def register(count: int = 37) -> list[Customer]:
    """Customers with shared last names and first names (ties the id breaks), some without a
    customer number, with created and modified times out of id order."""
    rng = random.Random(15)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    customers = []
    for n in range(count):
        moment = start + timedelta(hours=rng.randint(0, 500))
        email = f"c{rng.randint(0, 10**6):07d}.{n}@shop.test"
        customers.append(Customer(
            first_name=rng.choice(("Anna", "Łukasz", "Zoé")),
            last_name=rng.choice(("Müller", "Nowak", "Dupont", "Smith")),
            email=email, email_key=email,
            customer_number=None if n % 5 == 0 else f"K{rng.randint(0, 10**6):07d}",
            language=("de", "pl", "fr")[n % 3], created_at=moment,
            updated_at=moment + timedelta(hours=rng.randint(0, 50))))
    db.session.add_all(customers)
    db.session.commit()
    return customers


def in_order(args: dict) -> list[int]:
    """The ids of the whole list in its order, as the database sorts it (no paging)."""
    from shopadmin.customers.listing import apply_filters, parse_sort

    key, descending = parse_sort(args.get("sort"))
    order = [column.desc() if descending else column.asc() for column in SORTS[key]]
    return list(db.session.scalars(apply_filters(select(Customer.id), args).order_by(*order)))


def paged(args: dict) -> list[int]:
    total = count_customers(MultiDict(args))
    pages = (total + PER_PAGE - 1) // PER_PAGE
    return [customer.id for number in range(1, pages + 1)
            for customer in list_customers(MultiDict(args), number, PER_PAGE).customers]


def test_every_page_of_every_sort_holds_what_an_offset_gives(app, small_anchors):
    register()
    for sort in [*SORTS, *(f"-{key}" for key in SORTS)]:
        assert paged({"sort": sort}) == in_order({"sort": sort}), sort
        german = {"sort": sort, "language": "de"}
        assert paged(german) == in_order(german), sort
    assert len(in_order(german)) == 13
    # The deep pages went through kept positions of both directions, filtered too.
    kept = list(positions._lists[db.engine])
    assert {descending for _, _, descending in kept} == {True, False}
    assert any(dict(filters).get("language") == ("de",) for filters, _, _ in kept)


def test_a_change_of_the_register_moves_the_pages_at_once(app, small_anchors):
    customers = register()
    admin = make_staff("admin")
    args = {"sort": "name"}
    assert paged(args) == in_order(args)
    before = paged(args)
    # A new customer, a renamed one, one in the trash: each is seen on the next request.
    make_customer(first_name="Aaron", last_name="Nowak", email="aaron@shop.test")
    assert paged(args) == in_order(args) != before
    update_customer(customers[5], {"last_name": "Aaberg"}, actor=admin)
    db.session.commit()
    assert paged(args)[0] == customers[5].id
    delete_customer(customers[7], actor=admin)
    db.session.commit()
    assert customers[7].id not in paged(args)
    assert paged(args) == in_order(args)
    assert count_customers(MultiDict(args)) == 37


def test_deep_pages_through_the_list_page(app, client, login_as, small_anchors):
    login_as("staff")
    customers = register(120)
    emails = {c.id: c.email for c in customers}
    expected = [emails[i] for i in in_order({"sort": "-email", "language": "pl"})]
    assert len(expected) == 40
    expected = [emails[i] for i in in_order({"sort": "-email"})]
    for number in (2, 3):
        text = client.get(f"/customers/?sort=-email&page={number}").get_data(as_text=True)
        shown = sorted((text.index(email), email) for email in emails.values() if email in text)
        assert [email for _, email in shown] == expected[(number - 1) * 50:number * 50]
        assert "120 customers" in text
    deep = list_customers(MultiDict({"sort": "-email"}), 7, PER_PAGE)
    assert [emails[c.id] for c in deep.customers] == expected[24:28]
    assert (deep.page, deep.pages, deep.total) == (7, 30, 120)
    last = list_customers(MultiDict({"sort": "-email"}), 99, PER_PAGE)
    assert (last.page, [emails[c.id] for c in last.customers]) == (30, expected[116:])


def test_counts_follow_searches_and_group_members(app):
    from shopadmin.customers.bulk import perform
    from shopadmin.customers.models import CustomerGroup

    admin = make_staff("admin")
    first = make_customer(first_name="Hildegard", last_name="Zielinski", email="h@shop.test")
    assert count_customers(MultiDict({"q": "zielinski"})) == 1
    second = make_customer(first_name="Hanna", last_name="Zielinski", email="h2@shop.test")
    assert count_customers(MultiDict({"q": "zielinski"})) == 2
    group = CustomerGroup(name="VIP")
    db.session.add(group)
    db.session.commit()
    in_group = MultiDict({"group": str(group.id)})
    assert count_customers(in_group) == 0
    params = {"group": group.id, "group_name": "VIP"}
    perform("add_group", [first.id, second.id], admin, params)
    db.session.commit()
    assert count_customers(in_group) == 2
    perform("remove_group", [second.id], admin, params)
    db.session.commit()
    assert count_customers(in_group) == 1


def test_the_pager_links_keep_their_addresses(app, client, login_as):
    login_as("staff")
    for n in range(55):
        make_customer(last_name=f"Name {n:02d}", email=f"p{n}@shop.test")
    text = client.get("/customers/?sort=name&language=").get_data(as_text=True)
    assert re.search(r'href="/customers/\?page=2&amp;sort=name"', text)
    second = client.get("/customers/?page=2&sort=name").get_data(as_text=True)
    assert "p54@shop.test" in second and "p0@shop.test" not in second


def test_a_search_walks_the_order_or_reads_the_matches_and_counts_up_to_a_cap(
        app, client, login_as, monkeypatch):
    from shopadmin.customers import search_pages

    login_as("staff")
    customers = register(40)
    delete_customer(customers[1], actor=make_staff("admin"))
    db.session.commit()
    monkeypatch.setattr(search_pages, "WALK_CHUNK", 7)
    # Walked to (words of a letter or two) or read by id, or walked until it costs more than
    # expected and then read by id.
    for give_up, sort in ((5000, "name"), (5000, "-number"), (0, "-email")):
        monkeypatch.setattr(search_pages, "WALK_GIVE_UP", give_up)
        monkeypatch.setattr(search_pages, "WALK_SLACK", 2 if give_up else 0)
        everyone = in_order({"sort": sort})
        for query in ("mu", "k", "a n", "nowak", "anna dup", str(customers[30].id)):
            args = MultiDict({"q": query, "sort": sort})
            words = search_pages.text_only(args)
            expected = [i for i in everyone
                        if i in search_pages.matching_among(everyone, words)
                        or str(i) == query]
            first = list_customers(args, 1, 10)
            shown = [c.id for n in range(1, first.pages + 1)
                     for c in list_customers(args, n, 10).customers]
            assert shown == expected, (give_up, sort, query)
            assert (first.total, first.more) == (len(expected), False)
    assert customers[1].id not in in_order({"q": "k"})
    assert search_pages.text_only(MultiDict({"q": "mu", "language": "de"})) is None
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", 20)
    page = list_customers(MultiDict({"q": "k"}), 3, 10)
    assert (page.total, page.more, len(page.customers)) == (20, True, 10)
    # Longer words are counted exactly, past the cap too (search_segments).
    nowak = list_customers(MultiDict({"q": "nowak"}), 1, 10)
    assert (nowak.total, nowak.more) == (len(in_order({"q": "nowak"})), False)
    text = client.get("/customers/?q=k").get_data(as_text=True)
    assert "More than 20 customers" in text and "Apply to all matching" in text


def test_a_short_search_far_down_the_order_is_placed_from_its_matches(app, monkeypatch):
    """A page of a letter or two that the walk would find only far down the order is placed
    through the segments from every match's id (kept for the next page), on both databases:
    each page holds what an offset gives, counted up to the cap as the walk counts."""
    from shopadmin.customers import search_pages, search_segments
    from shopadmin.customers.kept_searches import kept_here

    register(40)
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(search_segments, "SEGMENTS_FROM", 1)
    monkeypatch.setattr(search_pages, "WALK_AT_MOST", 0)
    monkeypatch.setattr(search_pages, "SQLITE_WALK_AT_MOST", 0)
    for sort in ("name", "-email"):
        for query in ("mu", "k"):
            args = {"q": query, "sort": sort}
            expected = in_order(args)
            assert len(expected) > 6
            first = list_customers(MultiDict(args), 1, 3)
            assert [c.id for n in range(1, first.pages + 1)
                    for c in list_customers(MultiDict(args), n, 3).customers] == expected
            assert kept_here(search_pages.text_only(MultiDict(args))) == len(expected)
    monkeypatch.setattr(search_pages, "COUNT_UP_TO", 5)
    everyone = in_order({"q": "k"})
    for number in (1, 2, 3):
        page = list_customers(MultiDict({"q": "k"}), number, 4)
        assert [c.id for c in page.customers] == everyone[(number - 1) * 4:number * 4]
        assert (page.total, page.more, page.page) == (5, True, number)
