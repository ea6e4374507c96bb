"""CSRF, roles, hosts and headers."""

import pytest
from sqlalchemy import func, select

from shopadmin.auth.models import Role, StaffUser
from shopadmin.customers.models import CustomerGroup
from shopadmin.extensions import db

from ..conftest import csrf_token, sign_in
from ..factories import make_staff


def test_login_without_csrf_token_is_refused(client):
    user = make_staff()
    response = client.post("/login", data={"email": user.email, "password": "x"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_forged_token_is_refused_and_changes_nothing(client, login_as):
    admin = login_as("admin")
    staff = make_staff()
    response = client.post(f"/settings/staff/{staff.id}", data={
        "csrf_token": "forged", "name": "Changed", "role": "admin", "active": "y"})
    assert response.status_code == 400
    db.session.refresh(staff)
    assert staff.role == Role.STAFF and staff.name == ""
    assert admin.is_admin


def test_staff_get_403_on_admin_pages(client, login_as):
    login_as("staff")
    for url in ("/settings/staff/", "/settings/staff/new", "/settings/staff/1"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Access denied" in response.get_data(as_text=True)
    # With a valid CSRF token, so that only the role can refuse it.
    response = client.post("/settings/staff/new", data={
        "csrf_token": csrf_token(client, "/profile"), "email": "x@shop.test", "role": "admin"})
    assert response.status_code == 403
    assert db.session.query(StaffUser).filter_by(email="x@shop.test").count() == 0


def test_admin_creates_a_staff_account_with_a_one_time_password(app, client, login_as):
    login_as("admin")
    token = csrf_token(client, "/settings/staff/new")
    response = client.post("/settings/staff/new", data={
        "csrf_token": token, "email": "Colleague@Shop.test", "name": "Jean Dupont",
        "role": "staff", "language": "fr"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = page.split('id="one-time-password">')[1].split("<")[0]
    colleague = app.test_client()
    assert sign_in(colleague, "colleague@shop.test", password).status_code == 302


def test_last_admin_cannot_be_demoted_or_deactivated(client, login_as):
    admin = login_as("admin")
    token = csrf_token(client, f"/settings/staff/{admin.id}")
    response = client.post(f"/settings/staff/{admin.id}", data={
        "csrf_token": token, "name": "", "role": "staff", "active": "y", "language": ""})
    assert response.status_code == 200
    assert "The last active administrator cannot be removed." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_admin


def test_unknown_host_is_refused(client):
    response = client.get("/login", headers={"Host": "evil.test"})
    assert response.status_code == 400


def test_security_headers(client):
    response = client.get("/login")
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_error_pages_keep_the_layout_and_are_translated(client, login_as):
    login_as("staff", language="de")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Seite nicht gefunden" in page
    assert "navbar" in page




def test_server_error_page_is_translated_and_rolls_back(app, client, login_as):
    login_as("staff", language="fr")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken():
        db.session.add(CustomerGroup(name="Half-done", description=""))
        db.session.flush()  # written, not committed, when the view fails ...
        db.session.add(CustomerGroup(name="Half-done", description=""))
        db.session.flush()  # ... by a failing statement: the session is unusable until rolled back

    app.view_functions["dashboard.index"] = broken
    response = client.get("/")
    assert response.status_code == 500
    assert "Une erreur s’est produite" in response.get_data(as_text=True)
    # Pages go on working after the failure and show none of the half-done work.
    assert client.get("/customers/groups/").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count(CustomerGroup.id))) == 0


@pytest.mark.app_config(PROXY_FIX_X_FOR=1)  # what SHOPADMIN_PROXY_COUNT=1 sets
def test_behind_a_configured_proxy_the_forwarded_address_counts(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2/hour"
    for _ in range(2):
        client.post("/login", data={"email": "x@shop.test", "password": "x",
                                    "csrf_token": csrf_token(client, "/login")},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    blocked = client.post("/login", data={"email": "y@shop.test", "password": "x",
                                          "csrf_token": csrf_token(client, "/login")},
                          headers={"X-Forwarded-For": "203.0.113.7"})
    assert blocked.status_code == 429
    other = client.post("/login", data={"email": "y@shop.test", "password": "x",
                                        "csrf_token": csrf_token(client, "/login")},
                        headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 200
