"""Sign-ins (succeeded, failed, throttled) and refused pages are logged, and admins read them."""

from sqlalchemy import select

from shopadmin.audit import AuditEvent
from shopadmin.extensions import db

from ..conftest import sign_in
from ..factories import make_staff


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_sign_in_success_and_failures_are_logged_with_account_and_address(client):
    user = make_staff()
    assert sign_in(client, user.email, "wrong password").status_code == 200
    assert sign_in(client, "nobody@shop.test", "wrong password").status_code == 200
    assert sign_in(client, user.email.upper()).status_code == 302
    failed = events("auth.sign_in_failed")
    assert [e.changes["email"] for e in failed] == [user.email, "nobody@shop.test"]
    assert [e.object_id for e in failed] == [user.id, None]
    assert all(e.changes["address"] == "127.0.0.1" for e in failed)
    assert "wrong password" not in str([e.changes for e in failed])
    [success] = events("auth.sign_in")
    assert success.actor_id == user.id and success.changes["address"] == "127.0.0.1"


def test_throttled_sign_ins_are_logged(app, client):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2/hour"
    user = make_staff()
    for _ in range(2):
        sign_in(client, user.email, "wrong password")
    assert sign_in(client, user.email).status_code == 429
    [throttled] = events("auth.throttled")
    assert throttled.changes["email"] == user.email and throttled.object_id == user.id
    assert throttled.changes["address"] == "127.0.0.1"


def test_refused_pages_are_logged(client, login_as):
    staff = login_as("staff")
    assert client.get("/settings/staff/").status_code == 403
    [refused] = events("auth.forbidden")
    assert refused.actor_id == staff.id and refused.changes["email"] == staff.email
    assert refused.changes["path"] == "/settings/staff/"
    assert client.get("/settings/security-log").status_code == 403
    assert len(events("auth.forbidden")) == 2


def test_admins_read_the_security_log_in_their_language(app, client, login_as):
    user = make_staff()
    sign_in(app.test_client(), user.email, "wrong password")
    login_as("admin", language="pl")
    settings = client.get("/settings/").get_data(as_text=True)
    assert 'href="/settings/security-log"' in settings
    response = client.get("/settings/security-log")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dziennik bezpieczeństwa" in page
    assert user.email in page and "127.0.0.1" in page
    assert "Nieudane logowanie" in page
    only_failed = client.get("/settings/security-log?action=auth.sign_in_failed")
    assert 'data-action="auth.sign_in"' not in only_failed.get_data(as_text=True)
