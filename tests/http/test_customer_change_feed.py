"""The customers written since a stamp are read once per process and stamp on PostgreSQL (the
feed: changes.py), however many kept lists and searches move along by them; on SQLite each
reads its own. What was kept otherwise than through the feed (a list built, matches from
Redis) reads its own changes once, so that a commit the feed saw and it did not is not lost."""

from datetime import timedelta

import pytest
from sqlalchemy import event, update
from werkzeug.datastructures import MultiDict

from shopadmin.customers import changes, listing, paging, positions
from shopadmin.customers.models import Customer
from shopadmin.customers.services import update_customer
from shopadmin.database import utcnow
from shopadmin.extensions import db

from ..factories import make_staff
from ..statements import change_reads
from .test_customer_list_paging import PER_PAGE, in_order, paged, register
from .test_customer_list_positions import LISTS, middle_pages_hold_what_an_offset_gives


@pytest.fixture
def segments_of_three(monkeypatch):
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(paging, "DIRECT_OFFSET", PER_PAGE)
    monkeypatch.setattr(listing, "WALK_SORT_INDEX_ABOVE", 0)


def test_kept_lists_at_one_stamp_read_the_changes_since_once(app, segments_of_three):
    customers = register(40)
    admin = make_staff("admin")
    middle_pages_hold_what_an_offset_gives()  # (built: each reads its own changes once)
    update_customer(customers[5], {"last_name": "Aaberg"}, actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    placed = dict(positions._lists[db.engine])
    for number in (6, 7):
        update_customer(customers[number], {"language": "pl", "last_name": "Zorn"}, actor=admin)
        db.session.commit()
        with change_reads() as reads:
            middle_pages_hold_what_an_offset_gives()
        postgresql = db.engine.dialect.name == "postgresql"
        assert reads.count == (1 if postgresql else len(LISTS))
    assert all(positions._lists[db.engine][key] is placed[key] for key in placed)
    for args in LISTS:
        assert paged(args) == in_order(args), args


def test_a_list_built_before_the_feed_read_its_stamp_finds_a_later_commit(
        app, segments_of_three, monkeypatch):
    """A list built at a stamp while a writer had a customer open; the writer commits; the
    feed then reads that stamp's window, which holds the customer: the list, which did not see
    him, must not take the feed's window as its own (it would never be moved along by him)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers hold its one write lock: none commits behind another")
    monkeypatch.setattr(changes, "CLOCK_MARGIN", timedelta(seconds=30))
    customers = register(30)
    admin = make_staff("admin")
    args = MultiDict({"language": "pl", "sort": "name"})

    def placed(stamp: tuple) -> positions.Positions:
        return positions.positions_of(paging.filters_key(args), "name",
                                      listing._selecting(args), listing.SORTS["name"], False,
                                      3, stamp, False)

    late = next(c for c in customers[2:] if c.language != "pl")
    with db.engine.connect() as other:
        other.execute(update(Customer).where(Customer.id == late.id).values(
            language="pl", updated_at=utcnow()))
        update_customer(customers[0], {"last_name": "Aaberg"}, actor=admin)
        db.session.commit()
        stamp = paging.register_stamp()
        kept = placed(stamp)
        assert kept.total == len(in_order(args))  # (without him: not committed)
        other.commit()
    db.session.rollback()
    # Another kept list or search makes the feed read `stamp` now, the late customer in its
    # window.
    changes.caught_up(stamp, stamp, False, {})
    update_customer(customers[1], {"last_name": "Zorn"}, actor=admin)
    db.session.commit()
    moved = placed(paging.register_stamp())
    assert moved is kept
    assert late.id in in_order(args)
    assert moved.total == len(in_order(args))
    assert paged(dict(args)) == in_order(args)


def test_the_window_is_read_through_the_index_of_the_stamps(app):
    """A range of ids beside a range of stamps drew SQLite's planner (given the statistics of
    a million customers) to the primary key: every look at the changes walked the whole
    register (270 ms at a million, at the middle page right after any change)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner (PostgreSQL's takes the index of the stamps either way)")
    register(30)
    update_customer(db.session.get(Customer, 3), {"last_name": "Aaberg"},
                    actor=make_staff("admin"))
    db.session.commit()
    connection = db.session.connection()
    connection.exec_driver_sql("ANALYZE")
    # (What ANALYZE found in the customers bench's register of a million.)
    for index, stat in (("ix_customers_live_modified", "1000000 1 1"),
                        ("ix_customers_deleted_at", "1000000 1000000")):
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE idx = ?", (index,))
        connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('customers', ?, ?)",
                                   (index, stat))
    connection.exec_driver_sql("ANALYZE sqlite_schema")  # (the statistics read again)
    stamp = paging.register_stamp()
    sent: list[tuple[str, object]] = []

    def heard(_connection, _cursor, statement, parameters, *_args):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", heard)
    try:
        changes.changed_since(stamp, stamp, False)
    finally:
        event.remove(db.engine, "before_cursor_execute", heard)
    (statement, parameters), = [(s, p) for s, p in sent if " AS part" in s]
    plan = [row[3] for row in connection.exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters)]
    assert any("ix_customers_live_modified" in step for step in plan), plan
    assert not any("customers USING INTEGER PRIMARY KEY (rowid<" in step for step in plan), plan


def test_a_list_built_after_many_writes_moves_along_by_the_next_change_alone(
        app, segments_of_three, monkeypatch):
    """A list's first look after it was built took every customer of the window as changed
    (those an import wrote in the moments before the stamp: 7,423 in the customers bench,
    90 ms of the middle page right after a change); it starts from the window of its build."""
    customers = register(40)
    db.session.execute(update(Customer).values(updated_at=utcnow()))  # (an import, say)
    db.session.commit()
    admin = make_staff("admin")
    moved: list[int] = []
    repair = positions._repair

    def counted(placed, select_of, changed):
        moved.append(len(changed))
        return repair(placed, select_of, changed)

    monkeypatch.setattr(positions, "_repair", counted)
    middle_pages_hold_what_an_offset_gives()
    placed = dict(positions._lists[db.engine])
    update_customer(customers[5], {"last_name": "Aaberg"}, actor=admin)
    db.session.commit()
    middle_pages_hold_what_an_offset_gives()
    assert all(positions._lists[db.engine][key] is placed[key] for key in placed)
    assert moved and max(moved) == 1
