"""PostgreSQL: the first one and two letters of every term are lexemes of their own ("^mu"),
and a search word of one or two letters is looked up as that lexeme; what a search finds is
what a prefix of the terms finds, on every path that writes the index."""

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from shopadmin.customers.listing import list_customers
from shopadmin.customers.models import Customer
from shopadmin.customers.search import (
    indexed_terms,
    prefix_query,
    query_words,
    reindex_customers,
    with_prefixes,
)
from shopadmin.extensions import db

from ..factories import make_customer


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's store (SQLite's FTS5 indexes its prefixes itself)")


def test_short_words_become_their_prefix_lexeme():
    assert prefix_query(query_words("mu")) == "('^mu')"
    assert prefix_query(query_words("mu anna")) == "('^mu') & ('anna':*)"
    assert prefix_query(query_words("mul")) == "('mul':*)"
    assert set(with_prefixes("muller lodz").split()) == {
        "muller", "lodz", "^m", "^mu", "^l", "^lo"}


def _by_prefix(query: str) -> set[int]:
    """The live customers a term of whom starts with each word: read from the stored terms."""
    words = query_words(query)
    ids = db.session.scalars(select(Customer.id).where(Customer.deleted_at.is_(None))).all()
    return {customer_id for customer_id in ids
            if all(any(term.startswith(word) for word in alternatives
                       for term in indexed_terms(customer_id)) for alternatives in words)}


def test_a_short_word_finds_what_a_prefix_finds(on_postgresql):
    make_customer(first_name="Zoë", last_name="Müller", billing_city="Łódź", email="z@a.test")
    make_customer(last_name="Mu", email="mu@b.test")
    make_customer(last_name="Kmu", email="k@c.test", billing_city="Lodz")
    moved = make_customer(last_name="Nowak", email="n@d.test", billing_city="Berlin")
    db.session.commit()
    moved.last_name = "Mulder"  # an edit rewrites the entry (the flush hook)
    db.session.commit()
    reindex_customers([moved.id])  # and so does a Core rebuild
    db.session.commit()
    expected = {"m": {"z@a.test", "mu@b.test", "n@d.test"},
                "mu": {"z@a.test", "mu@b.test", "n@d.test"},
                "lo": {"z@a.test", "k@c.test"},
                "mu lo": {"z@a.test"},
                "km": {"k@c.test"},
                "be": {"n@d.test"},
                "ma": set()}
    for query, emails in expected.items():
        found = list_customers(MultiDict({"q": query}))
        assert {customer.email for customer in found.customers} == emails, query
        assert found.total == len(emails), query
        assert {customer.id for customer in found.customers} == _by_prefix(query), query
    stored = db.session.scalar(text(
        "SELECT tsvector_to_array(terms) FROM customer_search_vectors WHERE customer_id = :id"),
        {"id": moved.id})
    assert "^mu" in stored and "^no" not in stored  # the old name's prefixes are gone
