"""Forgetting a customer: erasure, emptying the trash and the daily purge leave nothing personal
in any table or file, the id is never handed out again, and an erased address that comes back
is stopped and shown to staff."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, inspect, select, text

from shopadmin.audit import AuditEvent
from shopadmin.customers.models import Customer
from shopadmin.customers.services import update_customer
from shopadmin.customers.trash import purge_expired_trash
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.orders.models import Order
from shopadmin.orders.services import create_api_key
from shopadmin.settings.services import update_settings

from ..conftest import csrf_token
from ..factories import make_customer
from .test_transfer_import import apply, csv_file, preview, upload

EMAIL = "Ola.Wisniewska@Poczta.test"
NEEDLES = ["ola.wisniewska@poczta.test", "wiśniewska", "601 234 567", "601234567",
           "aleksandra"]


def api(client, path, body, key=None, **headers):
    if key is None:
        _, key = create_api_key("Storefront", None)
        db.session.commit()
    return client.post(f"/api/v1{path}", json=body, headers={"X-API-Key": key, **headers})


def a_customer_with_a_history(app, client, run_jobs, admin) -> int:
    """Signed up in the shop, ordered, imported twice over (once rejected), edited by staff
    and sent a password mail: her data is in a dozen tables and a file."""
    signup = api(client, "/customers", {
        "email": EMAIL, "first_name": "Aleksandra", "last_name": "Wiśniewska",
        "phone": "+48 601 234 567", "newsletter": True}, **{"Idempotency-Key": "signup-1"})
    assert signup.status_code == 201, signup.get_json()
    customer_id = signup.get_json()["id"]
    order = api(client, "/orders", {
        "number": "W-1", "email": EMAIL, "name": "Aleksandra Wiśniewska", "currency": "PLN",
        "phone": "601234567", "billing_address": {"name": "Aleksandra Wiśniewska",
                                                  "city": "Sopot", "country": "PL"},
        "lines": [{"name": "Mug", "quantity": 1, "unit_price": "20"}]},
        **{"Idempotency-Key": "order-1"})
    assert order.status_code == 201, order.get_json()
    import_id = upload(client, csv_file(
        "First name;Last name;E-mail;Phone",
        f"Ola;Wiśniewska;{EMAIL};+48 601 234 567",
        f"Aleksandra;Wiśniewska;{EMAIL.lower()};601234567",
        "Jan;Nowak;jan@poczta.test;+48 600 100 200"))
    preview(client, run_jobs, import_id)
    assert apply(client, run_jobs, import_id).rejected == 1
    customer = db.session.get(Customer, customer_id)
    update_customer(customer, {"billing_city": "Sopot", "notes": "Wiśniewska called"},
                    actor=admin)
    db.session.commit()
    app.config["MAIL_SERVER"] = ""
    url = f"/customers/{customer_id}"
    assert client.post(url + "/send-password",
                       data={"csrf_token": csrf_token(client, url)}).status_code == 302
    run_jobs()
    return customer_id


def personal_values_left() -> list[str]:
    """Every text and JSON value in every table that holds one of the needles."""
    found = []
    present = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as connection:
        if "customer_search" in present:  # SQLite's full-text index, outside the models
            found += [f"customer_search: {needle}" for (terms,) in connection.execute(
                text("SELECT terms FROM customer_search")) for needle in NEEDLES
                if needle in terms.lower()]
        for table in db.metadata.sorted_tables:
            if table.name not in present:  # (the other database's search index)
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    held = json.dumps(value, ensure_ascii=False) if value is not None else ""
                    found += [f"{table.name}.{column.name}: {needle}" for needle in NEEDLES
                              if needle in held.lower()]
    return found


def files_holding_them(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes().lower()
            found += [f"{path.name}: {n}" for n in NEEDLES if n.encode() in content]
    return found


def forget(way: str, client, customer_id: int) -> None:
    if way == "erase":
        url = f"/customers/{customer_id}/privacy/erase"
        client.post(url, data={"csrf_token": csrf_token(client, url), "email": EMAIL})
        return
    url = f"/customers/{customer_id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    if way == "empty_trash":
        client.post("/customers/trash/empty",
                    data={"csrf_token": csrf_token(client, "/customers/trash/")})
    else:
        db.session.execute(db.update(Customer).where(Customer.id == customer_id)
                           .values(deleted_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        purge_expired_trash.call_local()


@pytest.mark.parametrize("way", ["erase", "empty_trash", "daily_purge"])
def test_nothing_personal_is_left_in_any_table_or_file(app, client, login_as, run_jobs, way):
    admin = login_as("admin")
    customer_id = a_customer_with_a_history(app, client, run_jobs, admin)
    assert personal_values_left() and files_holding_them(Path(app.instance_path))
    forget(way, client, customer_id)
    db.session.expire_all()
    assert db.session.get(Customer, customer_id) is None
    # On SQLite the files keep older copies until the scrub has run in the worker.
    assert run_jobs() == (1 if db.engine.dialect.name == "sqlite" else 0)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == customer_id,
        AuditEvent.action.in_(("customer.erased", "customer.purged")))).one()
    if db.engine.dialect.name == "sqlite":
        assert event.changes["physically_gone_at"] >= event.created_at.isoformat()
    assert personal_values_left() == []
    assert files_holding_them(Path(app.instance_path)) == []
    order = db.session.scalar(select(Order).where(Order.number == "W-1"))
    assert order.anonymised and order.total == 20  # the books keep the order
    assert db.session.scalar(select(Customer).where(Customer.email_key == "jan@poczta.test"))


def test_the_id_of_an_erased_customer_is_never_handed_out_again(client, login_as):
    login_as("admin")
    make_customer()
    newest = make_customer(email="newest@poczta.test")
    url = f"/customers/{newest.id}/privacy/erase"
    client.post(url, data={"csrf_token": csrf_token(client, url), "email": "newest@poczta.test"})
    created = client.post("/customers/new", data={
        "first_name": "Next", "last_name": "One", "email": "next@poczta.test",
        "customer_type": "private", "version": "0",
        "csrf_token": csrf_token(client, "/customers/new")})
    assert created.status_code == 302
    new_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert new_id > newest.id
    assert client.get(f"/customers/{newest.id}").status_code == 404


def test_an_erased_address_coming_back_is_stopped_and_named(client, login_as, run_jobs):
    login_as("admin")
    customer = make_customer(email="gone@poczta.test", newsletter=True)
    url = f"/customers/{customer.id}/privacy/erase"
    client.post(url, data={"csrf_token": csrf_token(client, url), "email": "gone@poczta.test"})
    # An old file: the row is rejected, and the report says why.
    import_id = upload(client, csv_file("First name;Last name;E-mail;Newsletter",
                                        "Gone;Again;GONE@poczta.test;yes",
                                        "Jan;Nowak;jan@poczta.test;yes"))
    preview(client, run_jobs, import_id)
    job = apply(client, run_jobs, import_id)
    assert (job.created, job.rejected) == (1, 1)
    report = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "was erased at their request" in report
    # The shop: no account and no newsletter entry, with a 409 that says why.
    _, key = create_api_key("Storefront", None)
    db.session.commit()
    for path, body in (("/customers", {"email": "gone@poczta.test"}),
                       ("/newsletter", {"email": "Gone@poczta.test", "subscribed": True})):
        refused = api(client, path, body, key)
        assert refused.status_code == 409
        assert refused.get_json()["errors"][0]["field"] == "email"
        assert "erased at their request" in refused.get_json()["errors"][0]["problem"]
    update_settings({"guest_order_policy": "create_account"})
    db.session.commit()
    order = api(client, "/orders", {"number": "G-1", "email": "gone@poczta.test",
                                    "currency": "EUR",
                                    "lines": [{"name": "Mug", "quantity": 1, "unit_price": 5}]},
                key)
    assert order.status_code == 201 and order.get_json()["guest"] is True
    assert db.session.scalar(select(Customer).where(
        Customer.email_key == "gone@poczta.test")) is None
    # Another address still signs up.
    assert api(client, "/customers", {"email": "new@poczta.test"}, key).status_code == 201


def test_emptying_the_trash_keeps_no_hash(client, login_as):
    from shopadmin.customers.forget import was_erased

    login_as("admin")
    customer = make_customer(email="tidy@poczta.test")
    forget("empty_trash", client, customer.id)
    assert not was_erased("tidy@poczta.test")
