"""The orders list, an order, status changes, a customer's orders, API keys and erasure."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from shopadmin.audit import AuditEvent
from shopadmin.extensions import db
from shopadmin.orders.models import ApiKey, Order, OrderLine, OrderStatus
from shopadmin.orders.services import OrderQuery, anonymise_orders_of, hash_key, list_orders
from shopadmin.text import fold

from ..conftest import csrf_token
from ..factories import make_customer


def make_order(number, customer=None, day=1, status=OrderStatus.NEW, total="10.00",
               currency="EUR", country="DE", **fields):
    fields.setdefault("email", customer.email if customer else f"{number.lower()}@guest.test")
    fields.setdefault("name", customer.full_name if customer else "Gast Gästin")
    order = Order(number=number, customer_id=customer.id if customer else None,
                  placed_at=datetime(2026, 3, day, 12, tzinfo=UTC), status=status,
                  currency=currency, subtotal=Decimal(total), total=Decimal(total),
                  email_key=fields["email"].lower(), search_text=fold(fields["name"]),
                  country=country, billing_address={"city": "Berlin", "country": country},
                  lines=[OrderLine(name="Mug", quantity=1, unit_price=Decimal(total),
                                   line_total=Decimal(total))], **fields)
    db.session.add(order)
    db.session.commit()
    return order


def test_list_search_filters_and_keyset_pages(app, client, login_as):
    login_as("staff")
    anna = make_customer(first_name="Anna", last_name="Łęcka", email="anna@shop.test")
    make_order("A-1", anna, day=1, status=OrderStatus.SHIPPED, country="PL", currency="PLN")
    make_order("A-2", None, day=2)
    make_order("A-3", anna, day=3, total="1234.50")
    page = client.get("/orders/").get_data(as_text=True)
    assert page.index("A-3") < page.index("A-2") < page.index("A-1")
    assert "€1,234.50" in page  # the total as English writes it
    assert "Guest" in page
    def numbers(url):
        text = client.get(url).get_data(as_text=True)
        return [n for n in ("A-1", "A-2", "A-3") if f">{n}<" in text]

    assert numbers("/orders/?q=anna@SHOP.test") == ["A-1", "A-3"]
    assert numbers("/orders/?q=lecka") == ["A-1", "A-3"]
    assert numbers("/orders/?q=a-2") == ["A-2"]
    assert numbers("/orders/?status=shipped") == ["A-1"]
    assert numbers("/orders/?date_from=2026-03-02&date_to=2026-03-02") == ["A-2"]
    assert numbers("/orders/?kind=guest") == ["A-2"]
    assert numbers("/orders/?kind=registered") == ["A-1", "A-3"]
    assert numbers("/orders/?country=pl") == ["A-1"]
    first, after = list_orders(OrderQuery(), limit=2)
    assert [o.number for o in first] == ["A-3", "A-2"]
    rest, last = list_orders(OrderQuery(after=after), limit=2)
    assert [o.number for o in rest] == ["A-1"] and last is None
    oldest, _ = list_orders(OrderQuery(sort="oldest"), limit=5)
    assert [o.number for o in oldest] == ["A-1", "A-2", "A-3"]


def test_detail_and_admin_only_status_change(app, client, login_as):
    order = make_order("B-1")
    login_as("staff")
    page = client.get("/orders/B-1").get_data(as_text=True)
    assert "Mug" in page and "Berlin" in page
    assert 'name="status"' not in page
    token = csrf_token(client, "/")
    assert client.post("/orders/B-1", data={"status": "shipped", "csrf_token": token}
                       ).status_code == 403
    assert client.get("/orders/NOPE").status_code == 404
    client.post("/logout", data={"csrf_token": token})
    admin = login_as("admin")
    token = csrf_token(client, "/orders/B-1")
    response = client.post("/orders/B-1", data={"status": "shipped", "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.SHIPPED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order.status"))
    assert event.actor_id == admin.id and event.changes == {"status": ["new", "shipped"]}


def test_customer_orders_newest_first_with_count_and_total(app, client, login_as):
    login_as("staff")
    customer = make_customer()
    make_order("C-1", customer, day=1, total="10.00")
    make_order("C-2", customer, day=5, total="5.50")
    make_order("C-3", customer, day=6, total="99.00", status=OrderStatus.CANCELLED)
    make_order("C-4", None, day=7)
    page = client.get(f"/customers/{customer.id}/orders").get_data(as_text=True)
    assert page.index("C-3") < page.index("C-2") < page.index("C-1")
    assert "C-4" not in page
    assert "3 orders" in page
    assert "€15.50" in page
    assert client.get("/customers/999999/orders").status_code == 404


def test_api_keys_shown_once_stored_hashed_and_revoked(app, client, login_as):
    login_as("staff")
    assert client.get("/settings/api-keys/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as("admin")
    token = csrf_token(client, "/settings/api-keys/")
    page = client.post("/settings/api-keys/", data={"name": "Shop", "csrf_token": token}
                       ).get_data(as_text=True)
    secret = page.split('user-select-all">')[1].split("<")[0]
    api_key = db.session.scalar(select(ApiKey))
    assert api_key.key_hash == hash_key(secret) and secret not in api_key.key_hash
    assert secret not in client.get("/settings/api-keys/").get_data(as_text=True)
    response = client.post(f"/settings/api-keys/{api_key.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/settings/api-keys/")})
    assert response.status_code == 302
    db.session.refresh(api_key)
    assert api_key.revoked_at is not None
    assert client.post("/api/v1/newsletter", json={"email": "a@b.test", "subscribed": True},
                       headers={"X-API-Key": secret}).status_code == 401


def test_anonymise_orders_of_keeps_orders_without_personal_data(app):
    customer = make_customer(email="erase@shop.test")
    kept = make_order("D-1", customer, phone="+49 30 1")
    other = make_order("D-2", None)
    assert anonymise_orders_of([customer.id]) == 1
    db.session.commit()
    kept = db.session.get(Order, kept.id)
    assert (kept.customer_id, kept.email, kept.email_key, kept.name, kept.phone) == (
        None, "", "", "", "")
    assert kept.billing_address == {} and kept.anonymised
    assert kept.total == Decimal("10.00") and len(kept.lines) == 1
    assert db.session.get(Order, other.id).email == "d-2@guest.test"
