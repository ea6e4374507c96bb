"""Searching the orders for a word inside a name or an e-mail through the trigram index
(pg_trgm on PostgreSQL, FTS5's trigram table on SQLite), and the migration that builds it over
the orders a database already holds."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from shopadmin.extensions import db
from shopadmin.orders import services
from shopadmin.orders.models import Order
from shopadmin.orders.services import OrderQuery, anonymise_orders_of, list_orders
from shopadmin.text import fold

from ..factories import make_customer
from .test_orders_pages import make_order


def order(number: str, customer=None, day: int = 1, **fields) -> Order:
    """An order whose search text is made as the storefront's are: folded name and e-mail."""
    made = make_order(number, customer, day=day, **fields)
    made.search_text = f"{fold(made.name)} {made.email.lower()}"
    db.session.commit()
    return made


def found(text: str) -> list[str]:
    orders, _ = list_orders(OrderQuery(q=text))
    return [order.number for order in orders]


def orders_of_three():
    anna = make_customer(first_name="Anna", last_name="Łęcka-Wiśniewska", email="anna@shop.test")
    zoe = make_customer(first_name="Zoé", last_name="O'Brien", email="zoe_100%@shop.test")
    order("S-1", anna, day=1)
    order("S-2", zoe, day=2)
    order("S-3", None, day=3, name="Gast Gästin", email="gast@guest.test")
    order("S-4", anna, day=4)
    return anna, zoe


def test_a_word_inside_a_name_or_an_e_mail(app):
    orders_of_three()
    assert found("wisniew") == ["S-4", "S-1"]
    assert found("ŁĘCKA") == ["S-4", "S-1"]
    assert found("iśniewsk") == ["S-4", "S-1"]
    assert found("o'brien") == ["S-2"]
    assert found("zoe_100%") == ["S-2"]
    assert found("100%") == ["S-2"]
    assert found("gastin") == ["S-3"]
    assert found("an") == ["S-4", "S-1"]  # shorter than a trigram: read as it is
    assert found('"brien') == []
    assert found("nobody here") == []


def test_many_matches_walk_the_dates_and_give_the_same_orders(app, monkeypatch):
    orders_of_three()
    few = [found(word) for word in ("wisniew", "gastin", "shop.test")]
    monkeypatch.setattr(services, "FEW_MATCHES", 1)
    assert [found(word) for word in ("wisniew", "gastin", "shop.test")] == few
    assert few[2] == ["S-4", "S-2", "S-1"]


def test_erased_names_are_no_longer_found(app):
    anna, _ = orders_of_three()
    anonymise_orders_of([anna.id])
    db.session.commit()
    assert found("wisniew") == [] and found("anna@shop") == []
    assert found("brien") == ["S-2"]


def test_the_migration_indexes_the_orders_already_there(app):
    directory = app.extensions["migrate"].directory
    orders_of_three()
    downgrade(directory=directory, revision="d3a9b7c51f20")
    try:
        db.session.remove()
        # Without the index the search still answers (a plain LIKE).
        order("S-5", None, day=5, name="Piotr Zieliński", email="piotr@guest.test")
    finally:
        upgrade(directory=directory)
        db.session.remove()
    assert found("zielin") == ["S-5"] and found("wisniew") == ["S-4", "S-1"]
    assert db.session.scalar(select(Order.number).where(Order.id == 1)) == "S-1"
