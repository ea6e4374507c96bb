"""Sign-in, sign-out, throttling and server-side sessions."""

from shopadmin.auth import services
from shopadmin.auth.models import StaffSession
from shopadmin.extensions import db

from ..conftest import PASSWORD, csrf_token, sign_in
from ..factories import make_staff

WRONG = "The e-mail address or the password is not correct."


def test_every_page_but_login_needs_sign_in(app, client):
    public = {"auth.login", "auth.set_language", "static",
              "account.reset_link", "account.reset", "account.forgot",
              "api.openapi"}  # the API's document holds nothing secret
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public or "GET" not in rule.methods:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments})[1]
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_every_form_post_but_sign_in_needs_sign_in(app, client):
    """Every POST route, with a valid CSRF token (so that only the sign-in check can refuse
    it): back-office ones send to /login, the storefront API asks for its key."""
    public = {"auth.login", "auth.set_language", "account.reset_link", "account.reset",
              "account.forgot"}
    token = csrf_token(client, "/login")
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public or "POST" not in rule.methods:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments})[1]
        response = client.post(url, data={"csrf_token": token})
        checked += 1
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login"), url
    assert checked > 30


def test_sign_in_opens_the_dashboard(client):
    user = make_staff(name="Anna Nowak")
    response = sign_in(client, user.email)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Anna Nowak" in page
    assert 'id="figure-customers"' in page


def test_wrong_email_and_wrong_password_read_the_same(client):
    user = make_staff()
    unknown = sign_in(client, "nobody@shop.test")
    wrong = sign_in(client, user.email, "not the password")
    assert unknown.status_code == wrong.status_code == 200
    assert WRONG in unknown.get_data(as_text=True)
    assert WRONG in wrong.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client):
    user = make_staff()
    user.active = False
    db.session.commit()
    assert WRONG in sign_in(client, user.email).get_data(as_text=True)


def test_next_only_follows_local_paths(client):
    user = make_staff()
    token = csrf_token(client, "/login")
    response = client.post("/login?next=https://evil.test/", data={
        "email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client, "/login")
    response = client.post("/login?next=/profile", data={
        "email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/profile"


def test_throttled_per_account(app, client):
    user = make_staff()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password").status_code == 200
    blocked = sign_in(client, user.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is not locked by this one's failures.
    other = make_staff()
    assert sign_in(client, other.email).status_code == 302


def test_throttled_per_address_and_forwarded_for_is_not_trusted(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3/hour"
    for number in range(3):
        response = client.post("/login", data={
            "email": f"guess{number}@shop.test", "password": "x",
            "csrf_token": csrf_token(client, "/login")},
            headers={"X-Forwarded-For": f"10.0.0.{number}"})
        assert response.status_code == 200
    response = client.post("/login", data={
        "email": "guess9@shop.test", "password": "x", "csrf_token": csrf_token(client, "/login")},
        headers={"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 429


def test_successful_sign_ins_are_not_counted(client):
    user = make_staff()
    for _ in range(8):
        assert sign_in(client, user.email).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_session_is_renewed_at_sign_in(client):
    user = make_staff()
    client.get("/login")
    before = client.get_cookie("shopadmin_session").value
    sign_in(client, user.email)
    after = client.get_cookie("shopadmin_session").value
    assert before != after


def test_sign_out_ends_the_session_on_the_server(app, client):
    user = make_staff()
    sign_in(client, user.email)
    copied = client.get_cookie("shopadmin_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    thief = app.test_client()
    thief.set_cookie("shopadmin_session", copied)
    assert thief.get("/").status_code == 302
    assert db.session.query(StaffSession).count() == 0


def test_deactivating_an_account_ends_its_sessions(app, client, login_as):
    victim = make_staff()
    other = app.test_client()
    sign_in(other, victim.email)
    assert other.get("/").status_code == 200
    login_as("admin")
    token = csrf_token(client, f"/settings/staff/{victim.id}")
    response = client.post(f"/settings/staff/{victim.id}", data={
        "csrf_token": token, "name": "", "role": "staff", "language": ""})
    assert response.status_code == 302
    assert other.get("/").status_code == 302


def test_changing_the_password_ends_other_sessions(app, client):
    user = make_staff()
    laptop = app.test_client()
    sign_in(laptop, user.email)
    sign_in(client, user.email)
    token = csrf_token(client, "/profile")
    response = client.post("/profile/password", data={
        "password-csrf_token": token, "password-current_password": PASSWORD,
        "password-new_password": "a brand new secret", "password-confirm_password":
        "a brand new secret"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert laptop.get("/").status_code == 302
    db.session.refresh(user)
    assert services.authenticate(user.email, "a brand new secret") is not None


def test_session_cookie_flags(client):
    user = make_staff()
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_are_stored_as_scrypt_hashes(app):
    user = make_staff()
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_one_time_password_must_be_changed_first(client):
    user, password = services.create_staff_user("new@shop.test")
    db.session.commit()
    assert user.must_change_password
    sign_in(client, user.email, password)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    token = csrf_token(client, "/profile")
    client.post("/profile/password", data={
        "password-csrf_token": token, "password-current_password": password,
        "password-new_password": "my own good password",
        "password-confirm_password": "my own good password"})
    assert client.get("/").status_code == 200
