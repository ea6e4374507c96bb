"""Groups, the trash, privacy requests and the store settings, over HTTP."""

import json
from datetime import timedelta

from sqlalchemy import func, select

from shopadmin.audit import AuditEvent
from shopadmin.customers.models import ConsentEvent, Customer, CustomerGroup
from shopadmin.customers.search import indexed_customers
from shopadmin.customers.services import set_newsletter, update_customer
from shopadmin.customers.trash import purge
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.settings.services import get_setting

from ..conftest import csrf_token
from ..factories import make_customer, make_staff
from ..forms import form_values


def count(model_or_column, *where):
    return db.session.scalar(select(func.count()).select_from(model_or_column).where(*where))


def test_groups_create_rename_count_and_delete(client, login_as):
    login_as("staff")
    token = csrf_token(client, "/customers/groups/")
    client.post("/customers/groups/", data={"csrf_token": token, "name": "Großhändler"})
    duplicate = client.post("/customers/groups/", data={"csrf_token": token,
                                                        "name": "GROSSHANDLER"})
    assert "already exists" in duplicate.get_data(as_text=True)
    group = db.session.scalar(select(CustomerGroup))
    members = [make_customer() for _ in range(3)]
    for customer in members:
        customer.groups = [group]
    make_customer(deleted_at=utcnow()).groups = [group]
    db.session.commit()
    page = client.get("/customers/groups/").get_data(as_text=True)
    assert "Großhändler" in page and ">3</td>" in page
    url = f"/customers/groups/{group.id}"
    client.post(url, data={"csrf_token": csrf_token(client, url), "name": "Wholesale",
                           "description": "B2B"})
    assert "3 customers" in client.get(url).get_data(as_text=True)
    client.post(url + "/delete", data={"csrf_token": csrf_token(client, url)})
    assert count(CustomerGroup) == 0
    assert count(Customer) == 4


def test_delete_restore_and_purge(client, login_as):
    login_as("admin")
    customer = make_customer(last_name="Trash")
    group = CustomerGroup(name="G")
    customer.groups = [group]
    db.session.commit()
    url = f"/customers/{customer.id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert client.get(f"/customers/{customer.id}").status_code == 404
    assert "Trash" not in client.get("/customers/").get_data(as_text=True).split(
        'id="customer-table"')[1]
    trash = client.get("/customers/trash/").get_data(as_text=True)
    assert "Trash" in trash
    client.post(f"/customers/trash/{customer.id}/restore",
                data={"csrf_token": csrf_token(client, "/customers/trash/")})
    db.session.expire_all()
    restored = db.session.get(Customer, customer.id)
    assert restored.deleted_at is None and [g.name for g in restored.groups] == ["G"]
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    client.post("/customers/trash/empty",
                data={"csrf_token": csrf_token(client, "/customers/trash/")})
    assert count(Customer) == 0
    assert indexed_customers() == 0


def test_expired_trash_is_purged_by_the_daily_job(app):
    old = make_customer(deleted_at=utcnow() - timedelta(days=get_setting("trash_days") + 1))
    recent = make_customer(deleted_at=utcnow() - timedelta(days=1))
    old_id, recent_id = old.id, recent.id
    assert purge() == 1
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(Customer, old_id) is None
    assert db.session.get(Customer, recent_id) is not None


def test_trash_delete_and_privacy_are_admin_pages(client, login_as):
    login_as("staff")
    customer = make_customer()
    for url in (f"/customers/{customer.id}/delete", "/customers/trash/",
                f"/customers/{customer.id}/privacy/export",
                f"/customers/{customer.id}/privacy/erase", "/settings/", "/settings/consent"):
        assert client.get(url).status_code == 403, url


def test_privacy_export_holds_everything(client, login_as):
    admin = login_as("admin")
    customer = make_customer(first_name="Łucja", billing_city="Łódź")
    customer.groups = [CustomerGroup(name="VIP")]
    set_newsletter(customer, True, actor=admin)
    update_customer(customer, {"billing_city": "Kraków"}, actor=admin)
    db.session.commit()
    response = client.get(f"/customers/{customer.id}/privacy/export")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.get_data(as_text=True))
    assert data["customer"]["first_name"] == "Łucja"
    assert data["groups"] == ["VIP"]
    assert data["marketing_consent"][0]["subscribed"] is True
    assert data["marketing_consent"][0]["wording_language"] == "en"  # the statement agreed to
    assert any(e["changes"].get("billing_city") == ["Łódź", "Kraków"] for e in data["history"])


def test_erasure_leaves_no_personal_data(client, login_as):
    admin = login_as("admin")
    customer = make_customer(email="erase.me@shop.test", billing_city="Gdańsk")
    set_newsletter(customer, True, actor=admin)
    update_customer(customer, {"billing_city": "Sopot"}, actor=admin)
    db.session.commit()
    customer_id = customer.id
    url = f"/customers/{customer_id}/privacy/erase"
    wrong = client.post(url, data={"csrf_token": csrf_token(client, url), "email": "x"})
    assert "exactly" in wrong.get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client, url),
                           "email": "Erase.Me@shop.test"})
    db.session.expire_all()
    assert db.session.get(Customer, customer_id) is None
    assert count(ConsentEvent) == 0
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "customer", AuditEvent.object_id == customer_id)).all()
    assert events[-1].action == "customer.erased"
    stored = json.dumps([e.changes for e in events])
    assert "Gdańsk" not in stored and "Sopot" not in stored and "erase.me" not in stored
    make_customer(email="erase.me@shop.test")  # the address is free again


def test_store_settings_are_validated_and_saved(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/settings/")
    data = {"csrf_token": token, "shop_name": "Sklep Łucji", "shop_url": "https://sklep.test",
            "store_country": "PL", "default_language": "de", "languages": ["pl", "en"],
            "export_format": "xlsx", "sender_address": "sklep@sklep.test",
            "trash_days": "14", "reset_link_hours": "72", "forgot_link_hours": "2",
            "export_keep_days": "3", "upload_keep_days": "60", "spent_keep_days": "14"}
    refused = client.post("/settings/", data=data)
    assert "must be one of the languages offered" in refused.get_data(as_text=True)
    saved = client.post("/settings/", data={**data, "default_language": "pl"})
    assert saved.status_code == 302
    assert get_setting("languages") == ["pl", "en"]
    assert get_setting("trash_days") == 14
    assert get_setting("export_keep_days") == 3
    assert count(AuditEvent, AuditEvent.action == "settings.updated") == 1


def test_staff_cannot_change_settings(client, login_as):
    login_as("staff")
    make_staff("admin")
    response = client.post("/settings/", data={"csrf_token": csrf_token(client, "/profile"),
                                               "shop_name": "x"})
    assert response.status_code == 403
    assert get_setting("shop_name") != "x"


def test_shipped_settings_save_as_they_are(client, login_as):
    login_as("admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'value="shop@localhost"' in page
    form = form_values(page)
    assert form["sender_address"] == "shop@localhost"
    saved = client.post("/settings/", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    refused = client.post("/settings/", data={**form, "sender_address": "shop@"})
    assert "Enter an e-mail address such as shop@example.com." in refused.get_data(as_text=True)
    assert client.post("/settings/", data={**form, "sender_address": "shop@mailhost"}
                       ).status_code == 302
    assert get_setting("sender_address") == "shop@mailhost"


def test_privacy_export_holds_the_mails_links_and_import_rows(app, client, login_as, run_jobs):
    from .test_transfer_import import apply, csv_file, preview, upload

    login_as("admin")
    import_id = upload(client, csv_file("First name;Last name;E-mail;Birth date",
                                        "Łucja;Kowalska;lucja@poczta.test;yesterday-ish"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    customer = db.session.scalar(select(Customer).where(Customer.email_key == "lucja@poczta.test"))
    app.config["MAIL_SERVER"] = ""
    url = f"/customers/{customer.id}"
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    run_jobs()  # the worker sends it (into the local outbox)
    response = client.get(f"/customers/{customer.id}/privacy/export")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    [mail] = data["mails"]
    assert mail["recipient"] == "lucja@poczta.test" and mail["template"]
    assert "Łucja" in mail["text"] and mail["subject"]
    [link] = data["password_links"]
    assert link["used_at"] is None and "token" not in json.dumps(link)
    [row] = data["import_rows"]
    assert row["cells"][0] == "Łucja" and row["warnings"]
