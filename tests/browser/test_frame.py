"""In a real browser: sign in, and read the dashboard in each of the four languages."""

import pytest

from ..conftest import PASSWORD
from ..factories import make_staff

pytestmark = pytest.mark.browser

DASHBOARD_WORDS = {
    "de": ("Kunden", "Wartet auf Freigabe", "Abmelden"),
    "fr": ("Clients", "En attente d’approbation", "Se déconnecter"),
    "en": ("Customers", "Waiting for approval", "Sign out"),
    "pl": ("Klienci", "Oczekuje na zatwierdzenie", "Wyloguj się"),
}


def test_sign_in_and_read_the_dashboard_in_four_languages(page, screenshot):
    user = make_staff(name="Zofia Wiśniewska")
    page.goto("/")
    assert "/login" in page.url
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#figure-customers")
    assert page.inner_text("#signed-in-user") == "Zofia Wiśniewska"
    for language, words in DASHBOARD_WORDS.items():
        page.click(f"#language-switcher button[value={language}]")
        page.wait_for_selector(f"html[lang={language}]")
        body = page.inner_text("body")
        for word in words:
            assert word in body, (language, word)
        screenshot(f"dashboard-{language}")


def test_wrong_password_shows_one_message(page):
    user = make_staff()
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", "wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "The e-mail address or the password is not correct." in page.inner_text("main")


def test_no_console_errors_under_the_content_security_policy(page):
    user = make_staff()
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#figure-customers")
    assert errors == []
