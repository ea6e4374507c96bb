"""In a real browser, in German: set two-factor sign-in up from the profile (the QR code drawn
on the page, the key beside it), keep the recovery codes, sign out, and sign in again with the
password and then a code from the "phone"."""

import time

import pyotp
import pytest

from shopadmin.auth.models import StaffUser
from shopadmin.extensions import db

from ..conftest import PASSWORD
from ..factories import make_staff

pytestmark = pytest.mark.browser


def test_set_up_and_sign_in_with_a_code(page, screenshot):
    user = make_staff("admin", language="de", name="Jürgen Groß")
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#two-factor-advice")  # the dashboard asks admins while it is off

    page.goto("/profile")
    page.get_by_role("link", name="Zwei-Faktor-Anmeldung einrichten").click()
    page.wait_for_selector("#two-factor-qr svg")
    box = page.locator("#two-factor-qr svg").bounding_box()
    assert box["width"] > 100 and box["height"] > 100  # drawn, not blocked by the CSP
    secret = page.inner_text("#two-factor-secret").strip()
    screenshot("set-up")
    page.fill("#code", "123456")
    page.get_by_role("button", name="Einschalten").click()
    assert "Der Code ist nicht korrekt" in page.inner_text("main")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Einschalten").click()
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    screenshot("recovery-codes")
    page.get_by_role("link", name="Ich habe sie sicher aufbewahrt").click()
    assert "Eingeschaltet seit" in page.inner_text("#two-factor")

    page.get_by_role("button", name="Abmelden").click()
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#code")
    assert "/login/code" in page.url
    page.goto("/customers/")
    assert "/login" in page.url  # the password alone opened nothing
    page.goto("/login/code")
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    screenshot("code")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#figure-customers")
    assert page.inner_text("#signed-in-user") == "Jürgen Groß"
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).two_factor_enabled
