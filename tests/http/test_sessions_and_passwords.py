"""Idle timeout of staff sessions, password hashes at OWASP's parameters, one password policy."""

from datetime import timedelta

from werkzeug.security import generate_password_hash

from shopadmin.auth.models import StaffSession
from shopadmin.config import build_config
from shopadmin.database import utcnow
from shopadmin.extensions import db

from ..conftest import PASSWORD, csrf_token, sign_in
from ..factories import make_staff

OWASP_SCRYPT = "scrypt:131072:8:1"


def _last_seen(user_id: int, minutes_ago: float) -> None:
    db.session.execute(db.update(StaffSession).where(StaffSession.user_id == user_id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=minutes_ago)))
    db.session.commit()


def test_a_session_left_idle_for_30_minutes_ends(client):
    user = make_staff()
    sign_in(client, user.email)
    assert client.get("/").status_code == 200
    _last_seen(user.id, 31)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_session_in_use_stays_and_is_marked_seen(client):
    user = make_staff()
    sign_in(client, user.email)
    _last_seen(user.id, 29)
    assert client.get("/").status_code == 200
    seen = db.session.scalar(db.select(StaffSession.last_seen_at)
                             .where(StaffSession.user_id == user.id))
    assert utcnow() - seen < timedelta(minutes=1)
    _last_seen(user.id, 29)
    assert client.get("/customers/").status_code == 200


def test_the_idle_timeout_is_configurable(app, client, monkeypatch, tmp_path):
    monkeypatch.setenv("SHOPADMIN_IDLE_MINUTES", "5")
    assert build_config(tmp_path)["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=5)
    monkeypatch.delenv("SHOPADMIN_IDLE_MINUTES")
    assert build_config(tmp_path)["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=30)
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=5)
    user = make_staff()
    sign_in(client, user.email)
    _last_seen(user.id, 6)
    assert client.get("/").status_code == 302


def test_new_hashes_use_owasp_parameters_and_old_ones_are_renewed_at_sign_in(
        app, client, tmp_path):
    assert build_config(tmp_path)["PASSWORD_HASH_METHOD"] == OWASP_SCRYPT
    app.config["PASSWORD_HASH_METHOD"] = OWASP_SCRYPT
    user = make_staff()
    assert user.password_hash.startswith(OWASP_SCRYPT + "$")
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
    db.session.commit()

    wrong = sign_in(client, user.email, "not the password")
    assert wrong.status_code == 200
    db.session.refresh(user)
    assert user.password_hash.startswith("scrypt:32768:8:1$")

    assert sign_in(client, user.email).status_code == 302
    db.session.refresh(user)
    assert user.password_hash.startswith(OWASP_SCRYPT + "$")
    assert sign_in(app.test_client(), user.email).status_code == 302


def _change_password(client, new: str):
    token = csrf_token(client, "/profile")
    return client.post("/profile/password", data={
        "password-csrf_token": token, "password-current_password": PASSWORD,
        "password-new_password": new, "password-confirm_password": new})


def test_staff_passwords_get_the_common_password_check(client, login_as):
    user = login_as("staff", language="pl")
    for common in ("qwertyuiop", "1q2w3e4r5t", user.email.upper()):
        response = _change_password(client, common)
        assert response.status_code == 200, common
        assert "łatw" in response.get_data(as_text=True), common
    short = _change_password(client, "Kr0tk1e!")
    assert "co najmniej 10" in short.get_data(as_text=True)
    assert _change_password(client, "a brand new secret").status_code == 302
