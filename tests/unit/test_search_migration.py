"""PostgreSQL's search index changes store without losing a term: the downgrade spreads each
customer's vector into a row per term, the upgrade gathers them back into one row each."""

import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from werkzeug.datastructures import MultiDict

from shopadmin import create_app
from shopadmin.customers.listing import list_customers
from shopadmin.customers.search import indexed_customers, indexed_terms
from shopadmin.customers.terms import search_terms
from shopadmin.extensions import db

from ..conftest import POSTGRES_URL, _pg_url
from ..factories import make_customer

BEFORE = "e7b2c4d81a06"

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's store (SQLite keeps FTS5)")


@pytest.fixture
def fresh_app(tmp_path):
    """An app on a PostgreSQL database of its own (the test migrates it down and up)."""
    name = f"shopadmin_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": _pg_url(name)})
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _found(query: str) -> set[str]:
    return {customer.email for customer in list_customers(MultiDict({"q": query})).customers}


def test_terms_survive_a_downgrade_and_an_upgrade(fresh_app):
    directory = fresh_app.extensions["migrate"].directory
    upgrade(directory=directory)
    values = [dict(first_name="Zoë", last_name="Müller-Łęcka", billing_city="Łódź",
                   email="zoe.muller@poczta.test", phone="+48 601 234 567",
                   billing_postcode="90-001", company_name="Café de l'Été"),
              dict(first_name="Jan", last_name="Nowak", email="jan@shop.test")]
    customers = [make_customer(**fields) for fields in values]
    expected = {customer.id: search_terms(fields)
                for customer, fields in zip(customers, values, strict=True)}
    db.session.commit()

    downgrade(directory=directory, revision=BEFORE)
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT customer_id, term FROM customer_search_terms")).all()
    assert {customer_id: {term for cid, term in rows if cid == customer_id}
            for customer_id in expected} == expected
    assert len(rows) == sum(len(terms) for terms in expected.values())

    upgrade(directory=directory)
    assert indexed_customers() == 2
    assert {customer_id: indexed_terms(customer_id) for customer_id in expected} == expected
    assert _found("mul lodz") == {"zoe.muller@poczta.test"}
    assert _found("90-001") == {"zoe.muller@poczta.test"}
    assert _found("ete") == {"zoe.muller@poczta.test"}
    assert _found("nowak") == {"jan@shop.test"}
    # The prefix lexemes came back with the upgrade (migration e3b7d2a9c4f1): "mu" and "j"
    # are each looked up as one lexeme.
    assert _found("mu") == {"zoe.muller@poczta.test"}
    assert _found("j") == {"jan@shop.test"}
    assert _found("lo mu") == {"zoe.muller@poczta.test"}


def test_prefix_lexemes_come_off_in_a_downgrade_and_back_in_an_upgrade(fresh_app):
    directory = fresh_app.extensions["migrate"].directory
    upgrade(directory=directory)
    muller = make_customer(first_name="Zoë", last_name="Müller", billing_city="Łódź",
                           email="zoe@poczta.test")
    db.session.commit()
    lexemes = "SELECT tsvector_to_array(terms) FROM customer_search_vectors"
    written = set(db.session.scalar(text(lexemes)))
    assert {"^m", "^mu", "^l", "^lo", "^z", "^zo"} <= written
    assert indexed_terms(muller.id) == {term for term in written if term[0] != "^"}
    db.session.commit()

    downgrade(directory=directory, revision="d5a8c3e1f7b2")
    assert set(db.session.scalar(text(lexemes))) == indexed_terms(muller.id)
    assert _found("mull lodz") == {"zoe@poczta.test"}
    db.session.commit()

    upgrade(directory=directory)
    assert set(db.session.scalar(text(lexemes))) == written
    assert _found("mu lo") == {"zoe@poczta.test"}
