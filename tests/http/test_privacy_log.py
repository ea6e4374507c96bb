"""The privacy log: admins see every privacy request answered and every customer removed for
good (who, when, which former id; on SQLite when the files' copies were cleared), and nothing
personal about the customers."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from shopadmin.audit import PRIVACY_EXPORTED, AuditEvent
from shopadmin.customers.models import Customer
from shopadmin.customers.trash import purge_expired_trash
from shopadmin.database import utcnow
from shopadmin.extensions import db

from ..conftest import POSTGRES_URL, csrf_token
from ..factories import make_customer


def rows(client, query: str = "") -> list[tuple[str, str]]:
    """The log's rows as (action, the row's text)."""
    page = client.get(f"/customers/privacy-log{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    found = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', html, re.S)
    return [(action, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells)).strip())
            for action, cells in found]


def test_the_log_lists_hand_outs_erasures_and_purges_without_personal_data(app, client,
                                                                            login_as, run_jobs):
    admin = login_as("admin", name="Greta Admin")
    kept, erased, trashed, expired = (
        make_customer(email=f"person{n}@laden.test", last_name=f"Zauberflöte{n}")
        for n in range(4))
    db.session.commit()
    kept_id, erased_id, trashed_id, expired_id = kept.id, erased.id, trashed.id, expired.id

    assert client.get(f"/customers/{kept_id}/privacy/export").status_code == 200
    url = f"/customers/{erased_id}/privacy/erase"
    assert client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "email": erased.email}).status_code == 302
    url = f"/customers/{trashed_id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    client.post("/customers/trash/empty",
                data={"csrf_token": csrf_token(client, "/customers/trash/")})
    db.session.execute(update(Customer).where(Customer.id == expired_id).values(
        deleted_at=utcnow() - timedelta(days=400)))
    db.session.commit()
    purge_expired_trash.call_local()
    run_jobs()  # the scrub on SQLite

    logged = rows(client)
    assert [action for action, _ in logged] == [
        "customer.purged", "customer.purged", "customer.erased", PRIVACY_EXPORTED]
    by_system, by_admin, erasure, hand_out = (text for _, text in logged)
    assert f"Former customer {expired_id}" in by_system and "System" in by_system
    assert f"Former customer {trashed_id}" in by_admin and "Greta Admin" in by_admin
    assert f"Former customer {erased_id}" in erasure and "Greta Admin" in erasure
    assert f"Customer {kept_id}" in hand_out and "Former" not in hand_out
    page = client.get("/customers/privacy-log").get_data(as_text=True)
    assert f'href="/customers/{kept_id}"' in page
    assert "Zauberflöte" not in page and "laden.test" not in page
    # The hand-out is in the customer's own history too, with who did it.
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == PRIVACY_EXPORTED)).one()
    assert (event.object_id, event.actor_id) == (kept_id, admin.id)
    history = client.get(f"/customers/{kept_id}").get_data(as_text=True)
    assert "Data handed out (privacy request)" in history

    # The filter shows one kind of event.
    assert [a for a, _ in rows(client, "?action=customer.erased")] == ["customer.erased"]
    assert len(rows(client, "?action=nonsense")) == 4


def test_on_sqlite_the_log_says_when_no_copy_was_left(app, client, login_as, run_jobs):
    login_as("admin")
    customer = make_customer(email="weg@laden.test")
    db.session.commit()
    url = f"/customers/{customer.id}/privacy/erase"
    app.config["SCRUB_DELAY_SECONDS"] = 60
    client.post(url, data={"csrf_token": csrf_token(client, url), "email": customer.email})
    [(_, text)] = rows(client)
    if POSTGRES_URL:  # nothing to scrub: the column stays empty
        assert text.endswith("—")
        return
    assert "Waiting for the clean-up" in text
    from shopadmin.customers.scrub import Scrub, run_scrub

    run_scrub(db.session.scalars(select(Scrub.id)).one())
    [(_, text)] = rows(client)
    assert "Waiting" not in text and not text.endswith("—")


def test_only_admins_read_the_privacy_log(client, login_as):
    login_as("staff")
    assert client.get("/customers/privacy-log").status_code == 403


def test_the_settings_page_links_to_the_privacy_log(client, login_as):
    login_as("admin")
    assert 'href="/customers/privacy-log"' in client.get("/settings/").get_data(as_text=True)
