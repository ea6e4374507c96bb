"""The import's set-based writes on PostgreSQL: a batch's updates as one UPDATE ... FROM
unnest(...) that stores what one statement per row stores and keeps the version check, and the
search vectors rewritten only where a customer's terms changed."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text, update

from shopadmin.bulk import execute_many, update_by_arrays
from shopadmin.customers.choices import CustomerType, Gender
from shopadmin.customers.models import Customer
from shopadmin.customers.search import (
    _reindex_postgresql,
    customer_search_vectors,
    indexed_terms,
    reindex_customers,
)
from shopadmin.extensions import db
from shopadmin.imports.plan import CUSTOMERS

from ..factories import make_customer


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's set-based writes (DATABASE_URL)")


def _vector_row_versions(customer_ids: list[int]) -> dict[int, str]:
    """Each vector row's xmin: the transaction that last wrote it."""
    return dict(db.session.execute(select(
        customer_search_vectors.c.customer_id, text("xmin::text"))
        .where(customer_search_vectors.c.customer_id.in_(customer_ids))).all())


def test_update_by_arrays_stores_every_type_and_checks_the_version(on_postgresql):
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    rows = [{"email": f"p{i}@shop.test", "email_key": f"p{i}@shop.test", "first_name": "Ann",
             "created_at": when, "updated_at": when, "version": 1} for i in range(3)]
    execute_many(db.session.connection(), insert(CUSTOMERS), rows, cache_key="test-arrays")
    ids = db.session.scalars(select(CUSTOMERS.c.id).order_by(CUSTOMERS.c.id)).all()
    later = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    changes = [
        {"_id": ids[0], "_version": 1, "_new_version": 2, "first_name": "Łucja 'O\\\"",
         "birth_date": date(1990, 1, 3), "gender": Gender.FEMALE, "newsletter": True,
         "customer_type": CustomerType.BUSINESS, "billing_country": None},
        {"_id": ids[1], "_version": 1, "_new_version": 2, "first_name": "Jörg",
         "birth_date": None, "gender": None, "newsletter": False,
         "customer_type": CustomerType.PRIVATE, "billing_country": "DE"},
        # A stale version: a colleague saved this customer meanwhile; it changes nothing.
        {"_id": ids[2], "_version": 7, "_new_version": 8, "first_name": "Stale",
         "birth_date": None, "gender": None, "newsletter": True,
         "customer_type": CustomerType.PRIVATE, "billing_country": "PL"},
    ]
    names = ["first_name", "birth_date", "gender", "newsletter", "customer_type",
             "billing_country"]
    changed = update_by_arrays(
        db.session.connection(),
        CUSTOMERS, changes, sets={**{name: name for name in names}, "_new_version": "version"},
        where={"_id": "id", "_version": "version"},
        constants={"updated_at": later, "updated_by_id": None})
    assert changed == 2
    db.session.expire_all()
    first, second, third = (db.session.get(Customer, customer_id) for customer_id in ids)
    assert (first.first_name, first.birth_date, first.gender, first.newsletter,
            first.customer_type, first.billing_country, first.version, first.updated_at) == (
        "Łucja 'O\\\"", date(1990, 1, 3), Gender.FEMALE, True, CustomerType.BUSINESS, None, 2,
        later)
    assert (second.first_name, second.gender, second.billing_country, second.version) == (
        "Jörg", None, "DE", 2)
    assert (third.first_name, third.version, third.updated_at) == ("Ann", 1, when)


def test_reindex_rewrites_only_the_vectors_whose_terms_changed(on_postgresql):
    customers = [make_customer(email=f"k{i}@shop.test", last_name="Kowalski", phone=f"60100{i}")
                 for i in range(3)]
    db.session.commit()
    ids = [customer.id for customer in customers]
    before = _vector_row_versions(ids)
    # A Core write (as the import's), which the ORM's hook does not see: the phone of one, the
    # notes (no search term) of another.
    db.session.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == ids[0])
                       .values(phone="+48 799 000 111"))
    db.session.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == ids[1]).values(notes="VIP"))
    reindex_customers(ids)
    db.session.commit()
    after = _vector_row_versions(ids)
    assert after[ids[0]] != before[ids[0]]
    assert after[ids[1]] == before[ids[1]] and after[ids[2]] == before[ids[2]]
    assert "799000111" in indexed_terms(ids[0]) and "601000" not in indexed_terms(ids[0])
    assert "601001" in indexed_terms(ids[1])


def test_a_customer_without_terms_has_no_vector(on_postgresql):
    customer = make_customer(email="gone@shop.test")
    other = make_customer(email="kept@shop.test")
    db.session.commit()
    _reindex_postgresql(db.session.connection(), [(customer.id, ""), (other.id, "kept")])
    assert _vector_row_versions([customer.id, other.id]).keys() == {other.id}
    assert indexed_terms(other.id) == {"kept"}
