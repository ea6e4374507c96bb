"""The public forgotten-password page: one answer for all, limits, stored address, escaping."""

import re

from sqlalchemy import select

from shopadmin.extensions import db
from shopadmin.notifications.models import OutboxMessage

from ..factories import make_customer


def form_token(visitor, url="/account/forgot"):
    page = visitor.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def ask(visitor, email):
    return visitor.post("/account/forgot", data={"csrf_token": form_token(visitor), "email": email})


def answer_text(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r'value="[^"]*"|nonce-[^"\']*|nonce="[^"]*"', "", html)


def test_known_and_unknown_addresses_get_the_same_answer(app, run_jobs):
    app.config["MAIL_SERVER"] = ""
    make_customer(email="Known.Person@Example.com", first_name="<b>Zo&</b>", language="fr")
    db.session.commit()
    known = ask(app.test_client(), "  known.person@EXAMPLE.com ")
    unknown = ask(app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert answer_text(known) == answer_text(unknown)
    assert "no-store" in known.headers["Cache-Control"]
    run_jobs()
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.recipient == "Known.Person@Example.com"  # the stored address, not the typed one
    assert "&lt;b&gt;Zo&amp;&lt;/b&gt;" in mail.html_body and "<b>Zo" not in mail.html_body
    assert "<b>Zo&</b>" in mail.text_body
    assert "http://shop.test/account/reset/" in mail.text_body


def test_requests_are_limited_per_email(app):
    app.config["MAIL_SERVER"] = ""
    answers = [ask(app.test_client(), "someone@example.com").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert ask(app.test_client(), "other@example.com").status_code == 200


def test_the_reset_page_keeps_the_token_out_of_the_address_and_referer(app):
    visitor = app.test_client()
    opened = visitor.get("/account/reset/some-token-value")
    assert opened.status_code == 302 and opened.headers["Location"] == "/account/reset"
    assert opened.headers["Referrer-Policy"] == "same-origin"
    page = visitor.get("/account/reset")
    assert "no-store" in page.headers["Cache-Control"]
    assert "some-token-value" not in page.get_data(as_text=True)
    assert "/account/forgot" in page.get_data(as_text=True)  # the calm page offers a new link
