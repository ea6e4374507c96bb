"""Which language a page is in, and locale formatting."""

from shopadmin.extensions import db
from shopadmin.settings.services import update_settings

from ..conftest import csrf_token, sign_in
from ..factories import make_staff

SIGN_IN = {"de": "Anmelden", "fr": "Se connecter", "en": "Sign in", "pl": "Zaloguj się"}


def test_browser_language_is_used_before_sign_in(client):
    for language, words in SIGN_IN.items():
        page = client.get("/login", headers={"Accept-Language": f"{language},en;q=0.5"})
        assert words in page.get_data(as_text=True), language


def test_store_default_when_the_browser_asks_for_none_of_ours(client):
    update_settings({"default_language": "pl"})
    db.session.commit()
    page = client.get("/login", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert SIGN_IN["pl"] in page


def test_switcher_beats_the_browser(client):
    token = csrf_token(client, "/login")
    client.post("/language", data={"language": "fr", "csrf_token": token, "next": "/login"})
    page = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert SIGN_IN["fr"] in page


def test_preference_of_the_staff_member_wins(client):
    user = make_staff(language="pl")
    sign_in(client, user.email)
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Klienci" in page


def test_switcher_while_signed_in_becomes_the_preference(client):
    user = make_staff(language="pl")
    sign_in(client, user.email)
    client.post("/language", data={"language": "de", "csrf_token": csrf_token(client, "/"),
                                   "next": "/"})
    db.session.refresh(user)
    assert user.language == "de"
    assert "Kunden" in client.get("/").get_data(as_text=True)


def test_switcher_ignores_unknown_languages_and_foreign_next(client):
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"language": "xx", "csrf_token": token,
                                               "next": "https://evil.test/"})
    assert response.headers["Location"] == "/"


def test_numbers_and_dates_follow_the_locale(client):
    user = make_staff(language="de")
    sign_in(client, user.email)
    page = client.get("/").get_data(as_text=True)
    assert "Heute ist" in page
