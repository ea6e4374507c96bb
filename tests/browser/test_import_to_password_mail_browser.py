"""In a real browser, in German: a German shop's file without a language column goes in, the
preview says the customers will get German, the report sends them the password mail, and the
mail and the set-password page are German."""

import email
import re
from email import policy

import pytest

from shopadmin.customers.models import Customer
from shopadmin.extensions import db

from ..conftest import PASSWORD
from ..factories import make_staff
from ..platform_files import german_shop_without_language
from .test_transfer_import_browser import apply_and_watch, count

pytestmark = pytest.mark.browser


def test_a_german_shop_imports_and_mails_its_customers_in_german(
        app, page, live_server, smtp_server, run_jobs, screenshot):
    # A new store in Germany: its default language follows its country.
    app.config.update(DEFAULT_LANGUAGE=None, MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=smtp_server.port)
    user = make_staff(name="Greta Admin", language="de")
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("html[lang=de]")

    page.goto("/imports/new")
    page.set_input_files("#file", files=[{"name": "kunden.csv", "mimeType": "text/csv",
                                          "buffer": german_shop_without_language(4)}])
    page.click("main form button[type=submit]")
    page.wait_for_selector("#mapping")
    page.click("#preview-button")
    page.wait_for_selector("#import-running")
    run_jobs()  # the page polls the status and reloads itself when the preview is ready
    page.wait_for_selector("#preview", timeout=15_000)
    languages = page.inner_text("#preview-languages")
    assert "Deutsch: 4" in languages and "Französisch: 1" in languages
    screenshot("preview-languages")

    apply_and_watch(page, run_jobs, screenshot, "german")
    assert count("created", page) == 5
    page.click("#send-import-passwords")
    page.wait_for_selector("#mail-languages")
    breakdown = page.inner_text("#mail-languages")
    assert "4 E-Mails auf Deutsch" in breakdown and "1 E-Mail auf Französisch" in breakdown
    screenshot("send-confirm")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/mails/batches/\d+"))
    run_jobs()
    assert len(smtp_server.messages) == 5  # each customer once

    mails = {envelope.rcpt_tos[0]: email.message_from_bytes(envelope.content,
                                                            policy=policy.default)
             for envelope in smtp_server.messages}
    german = mails["kunde0@laden.test"]
    assert german["Subject"].startswith("Bitte legen Sie Ihr Passwort")
    assert mails["marie@laden.test"]["Subject"] != german["Subject"]  # French, her country's
    text = german.get_body(("plain",)).get_content()
    assert "Guten Tag Kunde0 Schmidt" in text
    path = re.search(r"http://shop\.test(/account/reset/[A-Za-z0-9_\-]+)", text).group(1)

    page.context.clear_cookies()  # the customer, not the staff member
    page.goto(live_server.url + path)
    assert page.get_attribute("html", "lang") == "de"
    assert "Passwort festlegen" in page.inner_text("main")
    screenshot("set-password-de")
    page.fill("#password", "Sommer an der Elbe 2026")
    page.fill("#confirm", "Sommer an der Elbe 2026")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#reset-done")
    assert "Ihr Passwort wurde gespeichert" in page.inner_text("main")
    db.session.expire_all()
    customer = db.session.scalar(db.select(Customer).filter_by(email_key="kunde0@laden.test"))
    assert customer.language == "de" and customer.password_hash
