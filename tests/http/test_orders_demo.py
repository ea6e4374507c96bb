"""Demo orders: realistic lines, EUR and PLN, some guests, consistent totals."""

import random

from sqlalchemy import func, select

from shopadmin.extensions import db
from shopadmin.orders.demo import generate_orders
from shopadmin.orders.models import Order, OrderLine

from ..factories import make_customer


def test_generate_orders_for_customers_and_guests(app):
    for _ in range(5):
        make_customer()
    generate_orders(300, random.Random(1))
    db.session.commit()
    orders = list(db.session.scalars(select(Order)))
    assert len(orders) == 300
    assert {o.currency for o in orders} == {"EUR", "PLN"}
    guests = sum(o.customer_id is None for o in orders)
    assert 10 < guests < 120
    for order in orders[:50]:
        assert order.lines and order.total == sum(line.line_total for line in order.lines) + (
            order.shipping)
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) >= 300


def test_cli_command(app, runner):
    make_customer()
    result = runner.invoke(args=["orders", "demo-data", "20", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 20
