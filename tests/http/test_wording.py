"""Words that read as a native writes them: one English word in two places gets two words, a
password link is called a link, the mail's button has a label, codes carry their names, and the
consent statement is the customer's language's."""

import email
import re
from email import policy

from sqlalchemy import select

from shopadmin.customers.models import ConsentEvent, Customer
from shopadmin.customers.services import set_newsletter
from shopadmin.extensions import db
from shopadmin.notifications.models import OutboxMessage

from ..conftest import csrf_token
from ..factories import make_customer
from .test_password_mails import use_smtp, work_queue
from .test_transfer_import import apply, preview, upload


def test_to_is_bis_in_a_date_filter_and_an_in_a_mail_header(app, client, login_as):
    app.config["MAIL_SERVER"] = ""
    login_as("admin", language="de")
    customer = make_customer(language="de")
    url = f"/customers/{customer.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Passwort-Link senden" in page and "Passwort senden" not in page
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    work_queue()
    message = db.session.scalar(select(OutboxMessage))
    outbox = client.get(f"/settings/outbox/{message.id}").get_data(as_text=True)
    assert re.search(r">An</dt>\s*<dd[^>]*>" + re.escape(customer.email), outbox)
    orders = client.get("/orders/").get_data(as_text=True)
    assert re.search(r'<label[^>]*for="date_to"[^>]*>Bis</label>', orders)


def test_the_mail_button_says_what_it_does_with_the_plain_link_below(
        app, client, login_as, smtp_server):
    use_smtp(app, smtp_server)
    login_as("staff")  # an English-speaking colleague sends French and Polish mails
    for language in ("fr", "pl"):
        customer = make_customer(language=language)
        url = f"/customers/{customer.id}"
        client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    work_queue()
    buttons = {}
    for envelope in smtp_server.messages:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        html = message.get_body(("html",)).get_content()
        language = re.search(r'<html lang="(\w+)"', html).group(1)
        button = re.search(r'<a href="([^"]+)" class="mail-button"[^>]*>([^<]+)</a>', html)
        link = re.search(r'<a href="([^"]+)" class="mail-link"[^>]*>([^<]+)</a>', html)
        assert button.group(1) == link.group(1) == link.group(2)  # the same link, spelt out
        assert html.index("mail-button") < html.index("mail-link")
        buttons[language] = button.group(2)
    assert buttons == {"fr": "Définir mon mot de passe", "pl": "Ustaw hasło"}


def test_encodings_and_export_formats_are_named_not_coded(app, client, login_as, run_jobs):
    login_as("admin", language="de")
    content = "Vorname;Nachname;E-Mail\r\nJürgen;Müller;jm@shop.test\r\n".encode("cp1252")
    import_id = upload(client, content)
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Windows-1252 (Westeuropäisch)" in page and "cp1252" not in page
    token = csrf_token(client, "/exports/")
    client.post("/exports/", data={"csrf_token": token, "kind": "customers",
                                   "format": "csv_semicolon", "headings": ""})
    run_jobs()
    exports = client.get("/exports/").get_data(as_text=True)
    listed = exports[exports.index('id="export-table"'):]
    assert "<td>CSV (Semikolon, für Excel)</td>" in listed and "csv_semicolon" not in listed


def test_the_consent_statement_is_stored_per_language_and_recorded_with_its_language(
        app, client, login_as, run_jobs):
    admin = login_as("admin", language="de")
    token = csrf_token(client, "/settings/consent")
    response = client.post("/settings/consent", data={
        "csrf_token": token, "de": "Ja, ich möchte den Newsletter von Gartenwelt erhalten.",
        "pl": "Tak, chcę otrzymywać newsletter sklepu Gartenwelt.", "fr": "", "en": ""})
    assert response.status_code == 302
    polish = make_customer(language="pl")
    french = make_customer(language="fr")

    # The customer page, read by German staff, shows the statement the Polish customer reads.
    page = client.get(f"/customers/{polish.id}").get_data(as_text=True)
    assert "Tak, chcę otrzymywać newsletter sklepu Gartenwelt." in page
    assert "Ja, ich möchte" not in page

    set_newsletter(polish, True, actor=admin)
    db.session.commit()
    data = {"csrf_token": csrf_token(client, "/customers/"), "action": "newsletter_on",
            "scope": "selected", "ids": [str(french.id)], "query": "", "confirmed": "yes"}
    assert client.post("/customers/bulk", data=data).status_code == 302
    import_id = upload(client, b"E-Mail;Newsletter;Sprache\r\nneu@shop.test;ja;de\r\n")
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    imported = db.session.scalar(select(Customer).where(Customer.email == "neu@shop.test"))

    recorded = {event.customer_id: (event.wording_language, event.wording)
                for event in db.session.scalars(select(ConsentEvent))}
    assert recorded == {
        polish.id: ("pl", "Tak, chcę otrzymywać newsletter sklepu Gartenwelt."),
        french.id: ("fr", "Le client accepte de recevoir des e-mails promotionnels."),
        imported.id: ("de", "Ja, ich möchte den Newsletter von Gartenwelt erhalten."),
    }
    history = client.get(f"/customers/{polish.id}").get_data(as_text=True)
    assert ("Einwilligungstext (Polnisch): „Tak, chcę otrzymywać newsletter sklepu Gartenwelt.“"
            in history)


def test_the_consent_settings_refuse_an_overlong_text_with_a_message(client, login_as):
    login_as("admin")
    response = client.post("/settings/consent", data={
        "csrf_token": csrf_token(client, "/settings/consent"), "en": "x" * 2001})
    assert response.status_code == 422
    assert "2000" in response.get_data(as_text=True)
