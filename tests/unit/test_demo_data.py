"""demo-data: realistic customers, valid VAT numbers, searchable at once."""

import pytest
from sqlalchemy import select
from stdnum.eu import vat
from werkzeug.datastructures import MultiDict

from shopadmin.customers import demo
from shopadmin.customers.listing import count_customers
from shopadmin.customers.models import Customer
from shopadmin.customers.search import indexed_customers
from shopadmin.extensions import db


@pytest.mark.parametrize("parallel", [False, True])
def test_demo_customers_are_valid_and_searchable(app, runner, monkeypatch, parallel):
    if parallel:
        monkeypatch.setattr(demo, "PARALLEL_LOAD_MIN", 1)
    result = runner.invoke(args=["demo-data", "--customers", "600"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    customers = db.session.scalars(select(Customer)).all()
    assert len(customers) == 600
    assert {c.billing_country for c in customers} >= {"DE", "FR", "PL"}
    with_vat = [c.vat_number for c in customers if c.vat_number]
    assert with_vat and all(vat.is_valid(number) for number in with_vat)
    assert any(set(c.last_name) & set("ąęłńśźżäöüéèç") for c in customers)
    assert indexed_customers() == 600
    someone = customers[123]
    assert count_customers(MultiDict({"q": someone.email})) == 1


def test_a_customer_made_after_demo_data_gets_a_free_id(app):
    """The demo customers' ids are given explicitly; on PostgreSQL the id sequence must move
    past them, or the next customer (a form, an import) would collide with the first one."""
    demo.generate_customers(5)
    customer = Customer(email="after.demo@example.test", email_key="after.demo@example.test")
    db.session.add(customer)
    db.session.commit()
    assert customer.id == 6
