"""The list's kept positions move along with every change (a customer added, renamed, moved to
another language, trashed, restored, erased): the middle page right after a change holds what
an offset gives, on SQLite and PostgreSQL, and the list is not placed anew for it."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from shopadmin.customers import changes, listing, paging, positions
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
    monkeypatch.setattr(positions, "MOVE_AT_MOST", 2)
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


def test_a_look_moves_only_what_is_new_in_its_window(app, small_segments, monkeypatch):
    """The customers written a moment ago are read again by every look (a late commit may join
    them); those the last look found unchanged are not moved again, so that a register written
    thousands a second (an import) is not placed anew at every page."""
    customers = register(30)
    middle_pages_hold_what_an_offset_gives()
    monkeypatch.setattr(positions, "MOVE_AT_MOST", 5)
    admin = make_staff("admin")
    for customer in customers[:4]:
        update_customer(customer, {"last_name": f"Aa{customer.id}"}, actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    placed = kept()
    for customer in customers[4:8]:  # eight written in the window, four of them new to it
        update_customer(customer, {"last_name": f"Zz{customer.id}"}, actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    assert all(kept()[key] is placed[key] for key in placed)
    window = kept()[((), "name", False)].window
    assert {customer_id for part, customer_id in window if part == 1} >= {
        c.id for c in customers[:8]}


def test_the_first_page_leaves_the_whole_registers_segments_alone(app, small_segments,
                                                                  monkeypatch):
    """A first page needs no segments: it does not bring the whole register's up to date (at a
    million customers under an import, placing them anew cost every page a second)."""
    customers = register(30)
    middle_pages_hold_what_an_offset_gives()
    stamps = {key: placed.stamp for key, placed in kept().items() if not key[0]}
    db.session.execute(update(Customer).where(Customer.id.in_([c.id for c in customers[:5]]))
                       .values(updated_at=utcnow(), last_name="Bulk"))
    db.session.commit()
    page = list_customers(MultiDict({"language": "pl"}), 1, PER_PAGE)
    assert page.total == len(in_order({"language": "pl"}))
    assert {key: kept()[key].stamp for key in stamps} == stamps


def test_a_commit_later_than_the_window_is_found_on_postgresql(app, small_segments,
                                                                monkeypatch):
    """A transaction that stamped a customer, then committed after a look and after a newer
    change: the look saw it open (pg_stat_activity), so the next one reaches back to it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers hold its one write lock: none commits behind another")
    customers = register(30)
    monkeypatch.setattr(changes, "LATE_COMMIT", timedelta(milliseconds=300))
    monkeypatch.setattr(changes, "CLOCK_MARGIN", timedelta(milliseconds=300))
    middle_pages_hold_what_an_offset_gives()
    late = customers[12]
    with db.engine.connect() as other:
        other.execute(update(Customer).where(Customer.id == late.id).values(
            last_name="Aaaaa", language="pl", updated_at=utcnow()))
        time.sleep(1.0)
        update_customer(customers[13], {"last_name": "Zzzzz"}, actor=make_staff("admin"))
        db.session.commit()
        middle_pages_hold_what_an_offset_gives()
        other.commit()
    db.session.expire_all()
    assert late.last_name == "Aaaaa"
    middle_pages_hold_what_an_offset_gives()
    for args in LISTS:
        assert paged(args) == in_order(args), args


def test_a_customer_who_left_a_segment_before_it_was_cut_again(app, small_segments):
    """A segment is cut again from what the database holds at that moment; a customer who had
    left it by then (a change committed after the look that found the others) still names the
    old segment, and the look that finds him moves him without a count to take him from (this
    answered 500 for a search under an import: the old segment's name was gone)."""
    customers = register(40)
    middle_pages_hold_what_an_offset_gives()
    key = ((), "name", False)
    placed = kept()[key]
    select_of = listing._selecting(MultiDict())
    ordered = in_order({"sort": "name"})
    grown = placed.names[len(placed.names) // 2]
    leaving = db.session.get(Customer, next(i for i in ordered if placed.where[i] == grown))
    # Many new customers beside him (his segment grows past twice its size), and he leaves it.
    neighbours = [make_customer(first_name=leaving.first_name, last_name=leaving.last_name,
                                email=f"near{n}@shop.test") for n in range(3 * placed.every)]
    leaving.last_name = "Zzzzzz"
    db.session.commit()
    positions._repair(placed, select_of, {c.id for c in neighbours})  # (not him yet)
    assert grown not in placed.names  # (cut again without him)
    positions._repair(placed, select_of, {leaving.id})
    assert placed.total == len(in_order({"sort": "name"})) == len(customers) + len(neighbours)
    page = list_customers(MultiDict({"sort": "name"}), 2, PER_PAGE)
    assert [c.id for c in page.customers] == in_order({"sort": "name"})[PER_PAGE:2 * PER_PAGE]


def test_a_filtered_list_counted_again_after_a_change_keeps_its_members(app, monkeypatch):
    """Under an import the register changes between any two requests: a filtered list's first
    page counted every match again each time (half a second of the server's time for one
    country at a million). Counted a second time at another stamp, it keeps its members and
    moves them along with the changes; each count is the plain one."""
    monkeypatch.setattr(listing, "KEEP_MEMBERS_ABOVE", 3)
    customers = register(30)
    admin = make_staff("admin")
    args = MultiDict({"language": "pl", "newsletter": "no"})
    members_key = (paging.filters_key(args), positions.MEMBERS, False)

    def plain() -> int:
        return len(in_order(args))

    assert count_customers(args) == plain()
    assert members_key not in kept()  # (counted once: nothing kept but the count)
    make_customer(last_name="New", email="new.pl@shop.test", language="pl")
    assert count_customers(args) == plain()
    members = kept()[members_key]
    update_customer(customers[1], {"language": "pl"}, actor=admin)  # in
    update_customer(customers[4], {"language": "de"}, actor=admin)  # out
    delete_customer(customers[7], actor=admin)  # out
    db.session.commit()
    assert count_customers(args) == plain()
    restore_customer(customers[7], actor=admin)
    make_customer(last_name="Other", email="new.fr@shop.test", language="fr")
    assert count_customers(args) == plain()
    assert kept()[members_key] is members  # moved along, never read again
    assert members.total == plain()


def test_one_thread_builds_a_list_the_others_wait_for(app, small_segments, monkeypatch):
    """Threads of a web process that need the same list at once build it once."""
    register(30)
    stamp = paging.register_stamp()
    args = MultiDict({"language": "fr"})
    built: list[positions.Positions] = []
    build = positions._build

    def counted(*arguments):
        time.sleep(0.2)  # (long enough for the others to come)
        built.append(build(*arguments))
        return built[-1]

    found: list[positions.Positions] = []

    def look() -> None:
        with app.app_context():
            found.append(positions.positions_of(
                paging.filters_key(args), "name", listing._selecting(args),
                listing.SORTS["name"], False, 3, stamp, False))

    monkeypatch.setattr(positions, "_build", counted)
    threads = [threading.Thread(target=look) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and all(one is built[0] for one in found)


def test_a_stamp_read_before_another_thread_moved_the_list_does_not_place_it_anew(
        app, small_segments):
    """Threads of a process read their stamps, then queue for the list: one that read its
    stamp before another moved the list past it found the register 'gone back' and placed
    the whole list anew (at a million customers under an import, seconds of the server's time,
    again and again). The list is kept, and brought to the register as it is now."""
    register(30)
    args = MultiDict({"language": "pl"})
    earlier = paging.register_stamp()
    make_customer(last_name="Later", email="later@shop.test", language="pl")
    later = paging.register_stamp()

    def placed(stamp: tuple) -> positions.Positions:
        return positions.positions_of(paging.filters_key(args), "name", listing._selecting(args),
                                      listing.SORTS["name"], False, 3, stamp, False)

    found = placed(later)
    assert placed(earlier) is found
    assert found.total == len(in_order(args))
