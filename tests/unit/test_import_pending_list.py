"""PostgreSQL: while an import writes, a second connection merges the search index's pending
list (imports/pending_list.py), its entries committed or not, without waiting for the import
or making it wait."""

import time

import pytest
from sqlalchemy import text

from shopadmin.customers.models import Customer
from shopadmin.customers.search import index_new, matching
from shopadmin.extensions import db
from shopadmin.imports.pending_list import INDEX, merged_beside

from ..factories import make_customer


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's GIN index")


def _pending_pages_merged() -> int:
    """Merge the pending list in this session; how many of its pages there were."""
    return db.session.scalar(text(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)"))


def _write_vectors(first: str) -> list[int]:
    customers = [make_customer(email=f"{first}{n}@shop.test") for n in range(40)]
    connection = db.session.connection()
    ids = [customer.id for customer in customers]
    connection.execute(text("DELETE FROM customer_search_vectors WHERE customer_id = ANY(:ids)"),
                       {"ids": ids})
    index_new(connection, [(customer_id, f"{first}{n} zebra{n}")
                           for n, customer_id in enumerate(ids)])
    return ids


def test_a_second_connection_merges_uncommitted_entries(on_postgresql):
    _pending_pages_merged()
    db.session.commit()
    # Without it, the entries wait in the pending list (under gin_pending_list_limit).
    _write_vectors("alpha")
    assert _pending_pages_merged() > 0
    db.session.commit()
    # With it: merged while this transaction is still open, which goes on writing.
    ids = _write_vectors("beta")
    with merged_beside(db.engine, interval=0.02):
        time.sleep(0.5)
        more = _write_vectors("gamma")
        time.sleep(0.5)
    assert _pending_pages_merged() == 0
    db.session.commit()
    found = set(db.session.scalars(db.select(Customer.id).where(
        *matching(Customer.id, [("zebra",)]))))
    assert set(ids) | set(more) <= found


def test_without_the_index_the_import_writes_on(on_postgresql, caplog):
    """The merging is an optimisation: when it cannot run, it says so and stops."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"ALTER INDEX {INDEX} RENAME TO moved_aside")
    try:
        with merged_beside(db.engine, interval=0.01):
            time.sleep(0.2)
            make_customer(email="on@shop.test")
            db.session.commit()
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER INDEX moved_aside RENAME TO {INDEX}")
    assert "pending list is not merged" in caplog.text
