"""A search of longer words that matches many customers is paged by a walk of the sort order's
index (SQLite), stopped once it costs what reading the matches by id would: either way every
page holds the matches in the list's order."""

import pytest
from werkzeug.datastructures import MultiDict

from shopadmin.customers import search_pages
from shopadmin.customers.listing import SORTS, list_customers
from shopadmin.extensions import db

from .test_customer_list_paging import in_order, register


@pytest.mark.parametrize("steps_per_match", [10**6, 0])
def test_a_walked_search_holds_what_reading_by_id_gives(app, monkeypatch, steps_per_match):
    register(60)
    monkeypatch.setattr(search_pages, "SEARCH_WALK_FROM", 1)
    monkeypatch.setattr(search_pages, "WALK_STEPS_PER_MATCH", steps_per_match)
    monkeypatch.setattr(search_pages, "STEP_GRAIN", 1)
    walked = []
    original = search_pages.walked_within_bound

    def noting(*args, **kwargs):
        found = original(*args, **kwargs)
        walked.append(found is not None)
        return found
    monkeypatch.setattr(search_pages, "walked_within_bound", noting)
    for sort in [*SORTS, *(f"-{key}" for key in SORTS)]:
        for query in ("nowak", "anna", "zoe muller"):
            args = MultiDict({"q": query, "sort": sort})
            first = list_customers(args, 1, 4)
            shown = [c.id for n in range(1, first.pages + 1)
                     for c in list_customers(args, n, 4).customers]
            assert shown == in_order({"q": query, "sort": sort}), (sort, query)
    # Walked to the end when the budget allows it; stopped at once (and read by id) when not
    # (SQLite's budget; PostgreSQL's is the planner's estimate: see test_search_postgresql).
    if db.engine.dialect.name == "sqlite":
        assert any(walked) is (steps_per_match > 0)
    # The session is usable after a walk was stopped.
    assert list_customers(MultiDict({"q": "nowak"}), 1, 4).total > 0
