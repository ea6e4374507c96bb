"""Orders in the register: the customer page, privacy export and erasure, store settings."""

import json

from sqlalchemy import func, select

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.imports.models import ImportChange, ImportJob
from shopadmin.notifications.models import MailLog
from shopadmin.orders.models import Order
from shopadmin.orders.services import create_api_key
from shopadmin.settings.services import get_settings

from ..conftest import csrf_token
from ..factories import make_customer
from .test_orders_pages import make_order


def test_customer_page_shows_latest_orders_count_and_total(client, login_as):
    login_as("staff")
    customer = make_customer()
    for day in range(1, 23):
        make_order(f"P-{day:02d}", customer, day=day, total="10.00")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="customer-orders"' in page
    assert "22 orders" in page and "€220.00" in page
    assert "P-22" in page and "P-03" in page and "P-02" not in page  # the latest twenty
    assert f"/customers/{customer.id}/orders" in page
    other = make_customer()
    assert "0 orders" in client.get(f"/customers/{other.id}").get_data(as_text=True)


def test_privacy_export_holds_the_orders(client, login_as):
    login_as("admin")
    customer = make_customer(email="buyer@shop.test")
    make_order("X-1", customer, total="12.50")
    data = json.loads(client.get(f"/customers/{customer.id}/privacy/export").get_data(
        as_text=True))
    assert [order["number"] for order in data["orders"]] == ["X-1"]
    assert data["orders"][0]["total"] == "12.50"
    assert data["orders"][0]["lines"][0]["name"] == "Mug"


def test_erasure_keeps_orders_and_forgets_mails_and_undo_values(client, login_as):
    admin = login_as("admin")
    customer = make_customer(email="gone@shop.test", billing_city="Gdańsk")
    order = make_order("E-1", customer, phone="+48 58 1")
    db.session.add(MailLog(customer_id=customer.id, recipient="gone@shop.test",
                           template_key="account_password", language="pl"))
    job = ImportJob(file_path="old.csv", original_name="old.csv", created_by_id=admin.id)
    db.session.add(job)
    db.session.flush()
    db.session.add(ImportChange(import_id=job.id, customer_id=customer.id,
                                previous={"billing_city": "Gdańsk"}))
    db.session.commit()
    url = f"/customers/{customer.id}/privacy/erase"
    client.post(url, data={"csrf_token": csrf_token(client, url), "email": "gone@shop.test"})
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    kept = db.session.get(Order, order.id)
    assert kept.anonymised and kept.email == "" and kept.customer_id is None
    assert kept.total == 10 and len(kept.lines) == 1
    assert db.session.scalar(select(MailLog.recipient)) == ""
    assert db.session.scalar(select(func.count()).select_from(ImportChange)) == 0


def test_settings_choose_the_guest_policy_and_approval(client, login_as):
    login_as("admin")
    form = client.get("/settings/").get_data(as_text=True)
    assert 'name="guest_order_policy"' in form and 'name="require_approval"' in form
    data = {"csrf_token": csrf_token(client, "/settings/"), "shop_name": "Sklep",
            "shop_url": "https://sklep.test", "store_country": "PL", "default_language": "pl",
            "languages": ["pl", "en"], "export_format": "csv", "sender_address": "s@sklep.test",
            "trash_days": "14", "reset_link_hours": "72", "forgot_link_hours": "2",
            "export_keep_days": "7", "upload_keep_days": "30", "spent_keep_days": "30",
            "guest_order_policy": "create_account", "require_approval": "y"}
    assert client.post("/settings/", data=data).status_code == 302
    settings = get_settings()
    assert settings["guest_order_policy"] == "create_account" and settings["require_approval"]
    _, secret = create_api_key("Storefront", None)
    db.session.commit()
    response = client.post("/api/v1/customers", json={"email": "New@Shop.test"},
                           headers={"X-API-Key": secret})
    assert response.status_code == 201
    customer = db.session.scalar(select(Customer))
    assert customer.email == "New@shop.test" and not customer.approved
    bad = client.post("/api/v1/customers", json={"email": "not an address"},
                      headers={"X-API-Key": secret})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == [{"field": "email", "code": "invalid_email",
                                         "problem": "is not a valid e-mail address"}]
