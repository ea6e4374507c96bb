"""The list's kept positions move along with every change (a customer added, renamed, moved to
another language, trashed, restored, erased): the middle page right after a change holds what
an offset gives, on SQLite and PostgreSQL, and the list is not placed anew for it."""

import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from shopadmin.customers import listing, paging, positions
from shopadmin.customers.forget import commit_forgetting, forget_customers
from shopadmin.customers.listing import count_customers, list_customers
from shopadmin.customers.models import Customer
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import delete_customer, restore_customer
from shopadmin.database import utcnow
from shopadmin.extensions import db

from ..conftest import csrf_token
from ..factories import make_customer, make_staff
from .test_customer_list_paging import PER_PAGE, in_order, paged, register

LISTS = [{"sort": sort} for sort in ("name", "-name", "email", "-created", "modified",
                                     "number", "-number")] + [
    {"sort": "name", "language": "pl"}, {"sort": "-modified", "language": "pl"}]


@pytest.fixture
def small_segments(monkeypatch):
    """Segments of 3 customers (fewer for a filtered list) from the second page on."""
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(paging, "DIRECT_OFFSET", PER_PAGE)
    monkeypatch.setattr(listing, "WALK_SORT_INDEX_ABOVE", 0)


def kept() -> dict:
    return dict(positions._lists[db.engine])


def middle_pages_hold_what_an_offset_gives() -> None:
    for args in LISTS:
        total = count_customers(MultiDict(args))
        everyone = in_order(args)
        assert total == len(everyone), args
        for number in {(total // PER_PAGE) // 2 + 1, (total // PER_PAGE) // 2 + 2}:
            page = list_customers(MultiDict(args), number, PER_PAGE)
            assert [c.id for c in page.customers] == everyone[
                (number - 1) * PER_PAGE:number * PER_PAGE], (args, number)
            assert page.total == total


def test_the_middle_page_right_after_an_insert_and_a_delete(app, small_segments):
    customers = register(60)
    admin = make_staff("admin")
    middle_pages_hold_what_an_offset_gives()
    placed = kept()
    assert len(placed) == len(LISTS)

    make_customer(first_name="Aaron", last_name="Dupont", email="aaron@shop.test",
                  customer_number="K0000001", language="pl")
    middle_pages_hold_what_an_offset_gives()
    delete_customer(customers[3], actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    update_customer(customers[10], {"last_name": "Aaberg"}, actor=admin)
    update_customer(customers[11], {"language": "pl"}, actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    restore_customer(customers[3], actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    erased = customers[20].id
    forget_customers([erased], actor=admin, action="customer.erased")
    commit_forgetting()
    middle_pages_hold_what_an_offset_gives()
    assert erased not in in_order({"sort": "name"})

    # Every change moved the kept positions: none was placed anew.
    assert all(kept()[key] is placed[key] for key in placed)
    for args in LISTS:
        assert paged(args) == in_order(args), args


def test_a_grown_segment_is_cut_again(app, small_segments):
    register(30)
    args = {"sort": "-created"}
    middle_pages_hold_what_an_offset_gives()
    before = kept()
    for n in range(20):  # all at the front of the newest-first list
        make_customer(last_name=f"New {n}", email=f"new{n}@shop.test")
    middle_pages_hold_what_an_offset_gives()
    assert paged(args) == in_order(args)
    key = (paging.filters_key(MultiDict(args)), "created", True)
    assert kept()[key] is before[key]
    assert max(kept()[key].counts) <= 2 * kept()[key].every
    assert kept()[key].total == 50


def test_many_changes_at_once_place_the_list_anew(app, small_segments, monkeypatch):
    customers = register(30)
    middle_pages_hold_what_an_offset_gives()
    before = kept()
    monkeypatch.setattr(positions, "REPAIR_AT_MOST", 2)
    db.session.execute(update(Customer).where(Customer.id.in_([c.id for c in customers[:5]]))
                       .values(updated_at=utcnow(), last_name="Bulk"))
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    assert all(kept()[key] is not before[key] for key in before)


def test_the_middle_page_through_the_list_page(app, client, login_as, small_segments):
    login_as("admin")
    customers = register(150)
    emails = {c.id: c.email for c in customers}

    def shown(number: int) -> list[str]:
        text = client.get(f"/customers/?sort=email&page={number}").get_data(as_text=True)
        return [email for _, email in sorted(
            (text.index(email), email) for email in emails.values() if email in text)]

    assert shown(2) == [emails[i] for i in in_order({"sort": "email"})][50:100]
    first = make_customer(email="a0000@shop.test")
    emails[first.id] = first.email
    url = f"/customers/{customers[0].id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert customers[0].id not in in_order({"sort": "email"})
    assert shown(2) == [emails[i] for i in in_order({"sort": "email"})][50:100]


def test_the_unfiltered_lists_outlast_the_filtered_ones(app, small_segments, monkeypatch):
    """Past KEPT_PER_DATABASE lists the least recently used filtered one is forgotten: the
    unfiltered list of an order also places every search sorted by it (search_segments)."""
    register(30)
    monkeypatch.setattr(positions, "KEPT_PER_DATABASE", 3)
    stamp = paging.register_stamp()
    for language, sort in ((None, "name"), ("pl", "name"), (None, "email"), ("de", "name")):
        args = MultiDict({"language": language} if language else {})
        positions.positions_of(paging.filters_key(args), sort, listing._selecting(args),
                               listing.SORTS[sort], False, 3, stamp, False)
    assert list(kept()) == [((), "name", False), ((), "email", False),
                            ((("language", ("de",)),), "name", False)]
