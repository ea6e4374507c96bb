"""PostgreSQL: the import writes the customers' search vectors in COPY's binary format
(search.vector_copy_row); the server must store exactly the vector that the same terms give as
tsvector text (the form every other path writes: reindex_customers, the flush hook)."""

import pytest
from sqlalchemy import select, text

from shopadmin.customers.search import (
    customer_search_vectors,
    index_new,
    indexed_terms,
    vector_text,
    with_prefixes,
)
from shopadmin.extensions import db

from ..factories import make_customer

TERMS = [
    "muller lodz",
    "muller muller lodz",  # a term twice: one lexeme
    "zolw żółw łódź straße ß",  # beyond ASCII: sorted by their UTF-8 bytes
    "o'brien a:1 back\\slash plain",  # tsvector syntax in text: a lexeme as it is here
    "a b ab abc",  # one-letter terms: their prefix lexeme once
    "customer7@sklep-pl.com 48220070770 0600000007 c0000007 90-001",
    "^ab abc",  # a term that is also a prefix lexeme (never from our folding): once
    "   ",  # no terms: an empty vector, as its text gives
]


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's store")


def test_binary_copy_stores_the_vector_the_text_gives(on_postgresql):
    customers = [make_customer(email=f"v{n}@shop.test") for n in range(len(TERMS))]
    connection = db.session.connection()
    ids = [customer.id for customer in customers]
    connection.execute(customer_search_vectors.delete().where(
        customer_search_vectors.c.customer_id.in_(ids)))
    index_new(connection, [*zip(ids, TERMS, strict=True), (ids[0] + 10**6, "")])
    stored = dict(connection.execute(text(
        "SELECT customer_id, terms::text FROM customer_search_vectors "
        "WHERE customer_id = ANY(:ids)"), {"ids": ids}).all())
    for customer_id, terms in zip(ids, TERMS, strict=True):
        expected = connection.scalar(text("SELECT CAST(:vector AS tsvector)::text"),
                                     {"vector": vector_text(with_prefixes(terms))})
        assert stored[customer_id] == expected, terms
        assert indexed_terms(customer_id) == set(terms.split()) - {"^ab"}
    # A customer without terms has no entry; the GIN index finds the vectors written.
    assert connection.scalar(select(db.func.count()).select_from(customer_search_vectors)
                             .where(customer_search_vectors.c.customer_id == ids[0] + 10**6)) == 0
    assert connection.scalar(text(
        "SELECT customer_id FROM customer_search_vectors WHERE terms @@ '''żółw'':*'")) == ids[2]
