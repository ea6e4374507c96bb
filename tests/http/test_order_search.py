"""Searching the orders for a word inside a name or an e-mail through an index (on PostgreSQL
the GIN index of every word's suffixes, on SQLite FTS5's trigram table): any part of a word, a
text across word breaks, letters of any script; orders from the API and demo data found, erased
ones not; and the migration that builds the index over the orders a database already holds."""

import random

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select
from sqlalchemy import text as sa_text

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


def test_a_text_across_word_breaks_and_letters_of_any_script(app):
    orders_of_three()
    order("S-5", None, day=5, name="Иван Петров-Сидоров", email="ivan.p@guest.test")
    assert found("anna lecka") == ["S-4", "S-1"]
    assert found("nna lec") == ["S-4", "S-1"]  # the end of one word and the start of the next
    assert found("lecka wis") == []  # the name holds "lecka-wisniewska", not a space
    assert found("lecka-wis") == ["S-4", "S-1"]
    assert found("na le") == ["S-4", "S-1"]  # pieces too short for the index: a plain LIKE
    assert found("петр") == ["S-5"] and found("ров-сид") == ["S-5"]
    assert found("ivan.p@") == []  # "@": an e-mail address as a whole
    assert found("van.p") == ["S-5"] and found("guest.test") == ["S-5", "S-3"]
    assert found("wisniewska brien") == []
    assert found("gastin " * 80) == []  # longer than any order's search text


def test_the_pieces_of_a_search_as_lexemes_of_the_suffix_index():
    # A piece a word break follows ends a word: one of its suffixes exactly; the others start one.
    assert services.suffix_query("falm") == "'falm':*"
    assert services.suffix_query("anna kowal") == "'anna' & 'kowal':*"
    assert services.suffix_query("łęcka-wiś") == "'łęcka' & 'wiś':*"
    assert services.suffix_query("o'brien ") == "'brien'"
    assert services.suffix_query("anna anna ann") == "'anna' & 'ann':*"
    assert services.suffix_query("an b-c") == ""


def test_orders_of_every_write_path_are_found_and_erasure_forgets_them(app, client):
    from shopadmin.orders.demo import generate_orders
    from shopadmin.orders.services import create_api_key

    _, key = create_api_key("Storefront", None)
    db.session.commit()
    body = {"number": "W-1", "email": "Kasia@Example.test", "name": "Katarzyna Żółkiewska",
            "currency": "PLN", "lines": [{"name": "Mug", "quantity": 1, "unit_price": "9.50"}]}
    assert client.post("/api/v1/orders", json=body, headers={"X-API-Key": key}).status_code == 201
    assert found("zolkiew") == ["W-1"] and found("kasia@example") == []
    assert found("example.te") == ["W-1"]
    make_customer(first_name="Grzegorz", last_name="Brzęczyszczykiewicz", email="g@shop.test")
    generate_orders(3, random.Random(1))
    db.session.commit()
    demo = db.session.scalars(select(Order.number).where(Order.number != "W-1")).all()
    named = db.session.scalars(select(Order.number).where(
        Order.search_text.contains("brzeczyszczykiewicz"))).all()
    assert len(demo) == 3 and named and sorted(found("zczykiew")) == sorted(named)
    kasia = db.session.scalar(select(Order).where(Order.number == "W-1"))
    anonymise_orders_of([], {kasia.email_key})
    db.session.commit()
    assert found("zolkiew") == [] and found("example.te") == []


@pytest.fixture
def on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's index of the orders' word suffixes (DATABASE_URL)")


def test_the_words_suffixes_are_indexed_and_searched_through_the_index(on_postgresql):
    words = db.session.scalar(sa_text("SELECT order_search_words(:text)::text"),
                              {"text": "zoé o'brien zoe_100%@shop.test"})
    assert set(words.replace("'", "").split()) == {
        "zoé", "brien", "rien", "ien", "zoe", "100", "shop", "hop", "test", "est"}
    orders_of_three()
    condition = services._containing(fold("Wiśniew"))
    statement = select(Order.id).where(condition)
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    db.session.execute(sa_text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa_text(f"EXPLAIN {compiled}")))
    assert "ix_orders_search_words" in plan, plan
    assert db.session.scalars(statement.order_by(Order.id)).all() == [1, 4]


def test_what_a_query_language_would_read_is_searched_as_text(client, login_as):
    login_as("staff")
    order("S-7", None, name="Ann-Kathrin D'Arc", email="ak@guest.test")
    for text in ("d'arc", "kathrin d'a", "n-kath", "ann-kathrin d'arc"):
        page = client.get("/orders/", query_string={"q": text})
        assert page.status_code == 200 and "S-7" in page.get_data(as_text=True), text
    for text in ("arc':* | !ann", "\\arc", "(kath) & arc", "ąćęłńóśźż" * 60):
        page = client.get("/orders/", query_string={"q": text})
        assert page.status_code == 200 and "S-7" not in page.get_data(as_text=True), text
