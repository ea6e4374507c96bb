"""Two-factor sign-in for staff: set-up from the profile, the code after the password, recovery
codes, replays, the throttle, an admin's reset and the store setting that requires it."""

import re
import time

import pyotp
from sqlalchemy import select

from shopadmin.audit import AuditEvent
from shopadmin.auth.models import RecoveryCode, StaffSession, StaffUser
from shopadmin.extensions import db
from shopadmin.settings.services import get_settings, update_settings

from ..conftest import csrf_token, sign_in
from ..factories import make_staff

SECRET = re.compile(r'id="two-factor-secret">([A-Z2-7]+)<')
CODES = re.compile(r"<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</li>")
WRONG_CODE = "The code is not correct."


def later_code(secret: str, steps: int = 1) -> str:
    """The code of a later time step (still inside the accepted window): one not used yet."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def set_up(client) -> tuple[str, list[str]]:
    """Set two-factor sign-in up as the signed-in staff member would; (secret, recovery codes)."""
    page = client.get("/profile/two-factor").get_data(as_text=True)
    assert "<svg" in page and "otpauth" not in page.split("<svg", 1)[0]
    secret = SECRET.search(page).group(1)
    response = client.post("/profile/two-factor", data={
        "csrf_token": csrf_token(client, "/profile/two-factor"),
        "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = CODES.findall(response.get_data(as_text=True))
    return secret, codes


def enter_code(client, code: str):
    return client.post("/login/code", data={"csrf_token": csrf_token(client, "/login/code"),
                                           "code": code})


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def signed_in(client) -> bool:
    return client.get("/customers/").status_code == 200


def test_set_up_needs_a_right_code_and_stores_nothing_in_clear(client, login_as):
    user = login_as("staff")
    page = client.get("/profile").get_data(as_text=True)
    assert "/profile/two-factor" in page
    page = client.get("/profile/two-factor").get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    response = client.post("/profile/two-factor", data={
        "csrf_token": csrf_token(client, "/profile/two-factor"), "code": "000000"})
    assert WRONG_CODE.split(".")[0] in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.two_factor_enabled
    # The same secret is shown again until it is confirmed.
    assert SECRET.search(client.get("/profile/two-factor").get_data(as_text=True)).group(1) \
        == secret

    response = client.post("/profile/two-factor", data={
        "csrf_token": csrf_token(client, "/profile/two-factor"),
        "code": pyotp.TOTP(secret).now()})
    codes = CODES.findall(response.get_data(as_text=True))
    assert len(set(codes)) == 10
    db.session.refresh(user)
    assert user.two_factor_enabled
    # Neither the secret nor a recovery code is in the database as such.
    assert secret not in user.totp_secret
    hashes = db.session.scalars(select(RecoveryCode.code_hash)
                                .where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10
    assert not {code.replace("-", "") for code in codes} & set(hashes)
    assert [event.actor_id for event in events("auth.two_factor_enabled")] == [user.id]
    # Shown once: the set-up page now leads back to the profile.
    assert client.get("/profile/two-factor").status_code == 302


def test_sign_in_asks_for_the_code_after_the_password(client, login_as):
    user = login_as("staff")
    secret, _ = set_up(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})

    response = sign_in(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not signed_in(client)  # the password alone signs nobody in
    response = enter_code(client, "123456")
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert len(events("auth.code_failed")) == 1
    response = enter_code(client, later_code(secret))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)


def test_a_code_is_not_taken_twice(client, login_as):
    user = login_as("staff")
    secret, _ = set_up(client)
    code = later_code(secret)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    sign_in(client, user.email)
    assert enter_code(client, code).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    sign_in(client, user.email)
    response = enter_code(client, code)  # the same code again, inside its window
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, login_as):
    user = login_as("staff")
    _, codes = set_up(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    sign_in(client, user.email)
    # One with an O, I or B (ten codes of 16 characters hold some), typed in lower case with
    # 0, 1 and 8 for them, as people do.
    code = next(code for code in codes if set(code) & set("OIB"))
    response = enter_code(client, code.lower().translate(str.maketrans("oib", "018")))
    assert response.status_code == 302
    assert "9 recovery codes are left" in client.get("/").get_data(as_text=True)
    assert len(events("auth.recovery_code_used")) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    sign_in(client, user.email)
    assert enter_code(client, code).status_code == 200
    assert not signed_in(client)


def test_wrong_codes_count_against_the_sign_in_throttle(app, client, login_as):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3/15 minutes"
    user = login_as("staff")
    secret, _ = set_up(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    assert sign_in(client, user.email, "a wrong password").status_code == 200
    assert sign_in(client, user.email).status_code == 302
    assert enter_code(client, "000000").status_code == 200
    assert enter_code(client, "111111").status_code == 200  # three failures: the limit
    token = csrf_token(client, "/login/code")
    response = client.post("/login/code", data={"csrf_token": token,
                                                "code": later_code(secret)})
    assert response.status_code == 429  # even the right code, now
    assert sign_in(client, user.email).status_code == 429  # and the password step too
    assert events("auth.throttled")[-1].changes["email"] == user.email


def test_wrong_codes_count_per_address_too(app, client, login_as):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2/hour"
    user = login_as("staff")
    set_up(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    assert sign_in(client, user.email).status_code == 302
    assert enter_code(client, "000000").status_code == 200
    assert enter_code(client, "111111").status_code == 200
    assert sign_in(client, make_staff().email, "wrong").status_code == 429


def test_turn_off_and_new_recovery_codes_need_a_code(client, login_as):
    user = login_as("staff")
    secret, codes = set_up(client)
    token = csrf_token(client, "/profile")
    response = client.post("/profile/two-factor/recovery-codes", data={
        "csrf_token": token, "two-factor-code": later_code(secret)})
    new_codes = CODES.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    client.post("/profile/two-factor/off", data={"csrf_token": token,
                                                 "two-factor-code": "000000"})
    db.session.refresh(user)
    assert user.two_factor_enabled
    client.post("/profile/two-factor/off", data={"csrf_token": token,
                                                 "two-factor-code": new_codes[0]})
    db.session.refresh(user)
    assert not user.two_factor_enabled and user.totp_secret is None
    assert len(events("auth.two_factor_disabled")) == 1


def test_an_admin_resets_a_colleagues_second_factor(app, client, login_as):
    colleague = make_staff()
    other = app.test_client()
    assert sign_in(other, colleague.email).status_code == 302
    set_up(other)
    admin = login_as("admin")
    assert "Two-factor sign-in</span>" in client.get("/settings/staff/").get_data(as_text=True)
    page = client.get(f"/settings/staff/{colleague.id}").get_data(as_text=True)
    assert "reset-two-factor" in page
    token = csrf_token(client, f"/settings/staff/{colleague.id}")
    response = client.post(f"/settings/staff/{colleague.id}/reset-two-factor",
                           data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    colleague = db.session.get(StaffUser, colleague.id)
    assert not colleague.two_factor_enabled
    assert not db.session.scalars(select(RecoveryCode)).all()
    assert not db.session.scalars(select(StaffSession)
                                  .where(StaffSession.user_id == colleague.id)).all()
    reset = events("auth.two_factor_reset")
    assert [(event.actor_id, event.object_id) for event in reset] == [(admin.id, colleague.id)]
    assert events("staff.two_factor_reset")[0].actor_id == admin.id
    log = client.get("/settings/security-log").get_data(as_text=True)
    assert "Two-factor sign-in reset by an admin" in log and colleague.email in log
    # The colleague signs in with the password alone again.
    assert sign_in(other, colleague.email).headers["Location"] == "/"
    # Staff cannot reset anybody's.
    assert other.post(f"/settings/staff/{admin.id}/reset-two-factor", data={
        "csrf_token": csrf_token(other, "/profile")}).status_code == 403


def test_required_for_admins_sends_them_to_set_up_first(client, login_as):
    assert get_settings()["require_two_factor"] == "off"  # a fresh installation
    update_settings({"require_two_factor": "admins"})
    db.session.commit()
    staff = make_staff()
    login_as("admin")
    response = client.get("/customers/")
    assert response.status_code == 302 and response.headers["Location"] == "/profile/two-factor"
    assert client.get("/settings/").status_code == 302
    secret, _ = set_up(client)
    assert client.get("/customers/").status_code == 200
    other = client.application.test_client()
    assert sign_in(other, staff.email).status_code == 302
    assert other.get("/customers/").status_code == 200  # staff are not obliged


def test_required_for_everyone(client, login_as):
    update_settings({"require_two_factor": "everyone"})
    db.session.commit()
    login_as("staff")
    assert client.get("/").headers["Location"] == "/profile/two-factor"
    assert "<svg" in client.get("/profile/two-factor").get_data(as_text=True)


def test_the_dashboard_asks_admins_while_it_is_off(client, login_as):
    login_as("admin")
    assert 'id="two-factor-advice"' in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/settings/")
    form = {key: value for key, value in get_settings().items() if not isinstance(value, list)}
    form.update(csrf_token=token, languages=get_settings()["languages"],
                require_two_factor="admins", require_approval="")
    client.post("/settings/", data=form)
    assert get_settings()["require_two_factor"] == "admins"
    set_up(client)
    assert 'id="two-factor-advice"' not in client.get("/").get_data(as_text=True)


def test_staff_are_not_asked_on_the_dashboard(client, login_as):
    login_as("staff")
    assert 'id="two-factor-advice"' not in client.get("/").get_data(as_text=True)


def test_an_operator_resets_the_last_admins_second_factor(client, login_as, runner):
    admin = login_as("admin")
    set_up(client)
    db.session.rollback()  # the command reads afresh, as in a process of its own
    result = runner.invoke(args=["users", "reset-two-factor", admin.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.rollback()  # a new read: the command committed in a session of its own
    assert not db.session.get(StaffUser, admin.id).two_factor_enabled
    assert not signed_in(client)  # its sessions ended
    assert events("staff.two_factor_reset")[0].actor_id is None
    assert runner.invoke(args=["users", "reset-two-factor", "nobody@shop.test"]).exit_code == 1
