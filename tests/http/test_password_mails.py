"""Password mails through a real SMTP server on loopback, and the customer's reset page."""

import email
import os
import re
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from unittest import mock

from sqlalchemy import func, select

from shopadmin.customers.models import Customer
from shopadmin.extensions import db, huey
from shopadmin.notifications.models import MailBatch, MailLog, MailStatus, OutboxMessage
from shopadmin.settings.services import update_settings

from ..conftest import csrf_token
from ..factories import make_customer

LINK = re.compile(r"http://shop\.test/account/reset/[A-Za-z0-9_\-]+")


def parse(envelope):
    return email.message_from_bytes(envelope.content, policy=policy.default)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def use_smtp(app, server):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_RETRY_BACKOFF_SECONDS=0.01)


def work_queue(limit=10_000):
    """Run queued tasks, and the ones scheduled for later (retries) at once, until none is left."""
    done = 0
    while done < limit:
        task = huey.dequeue()
        if task is None:
            later = huey.read_schedule(datetime.now() + timedelta(days=1))
            if not later:
                return done
            for scheduled in later:
                huey.enqueue(scheduled)
            continue
        huey.execute(task)
        done += 1
    raise AssertionError("queue did not run empty")


def test_one_customer_gets_the_mail_in_her_language_and_sets_a_password(
        app, client, login_as, smtp_server):
    use_smtp(app, smtp_server)
    login_as("staff")
    customer = make_customer(first_name="Zofia", email="zofia@poczta.test", language="pl")
    url = f"/customers/{customer.id}"
    response = client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert smtp_server.messages == []  # the worker sends it, not the request
    work_queue()
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["zofia@poczta.test"]
    message = parse(envelope)
    body = text_of(message)
    assert "hasła" in body  # the Polish default text
    link = LINK.search(body).group(0)
    assert message.get_body(("html",)) is not None

    visitor = app.test_client()
    opened = visitor.get(link.replace("http://shop.test", ""))
    assert opened.status_code == 302 and opened.headers["Location"] == "/account/reset"
    page = visitor.get("/account/reset")
    assert 'lang="pl"' in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    done = visitor.post("/account/reset", data={"csrf_token": token,
                                                "password": "Wiosna nad Wisłą 2026",
                                                "confirm": "Wiosna nad Wisłą 2026",
                                                "password_confirm": "Wiosna nad Wisłą 2026"})
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).password_hash
    again = app.test_client()
    again.get(link.replace("http://shop.test", ""))
    refused = again.get("/account/reset").get_data(as_text=True)
    assert 'name="password"' not in refused


def test_a_batch_of_2000_in_a_language_mix_sends_each_one_mail(app, client, login_as,
                                                               smtp_server):
    use_smtp(app, smtp_server)
    update_settings({"mail_rate_per_minute": 0})
    db.session.commit()
    login_as("admin")
    languages = ["de", "fr", "en", "pl"]
    table = Customer.__table__
    db.session.execute(table.insert(), [
        {"first_name": f"Kunde{i}", "last_name": "Test", "email": f"c{i}@mail.test",
         "email_key": f"c{i}@mail.test", "language": languages[i % 4]} for i in range(2000)])
    db.session.commit()
    ids = [str(i) for i in db.session.scalars(select(Customer.id))]
    token = csrf_token(client, "/customers/")
    response = client.post("/customers/send-password", data={
        "csrf_token": token, "customer_ids": ids, "confirmed": "1"})
    assert response.status_code == 302
    work_queue()
    recipients = [rcpt for envelope in smtp_server.messages for rcpt in envelope.rcpt_tos]
    assert len(recipients) == 2000 == len(set(recipients))
    subjects = {parse(e)["Subject"] for e in smtp_server.messages}
    assert len(subjects) == 4
    assert db.session.scalar(select(func.count(MailLog.id)).where(
        MailLog.status == MailStatus.SENT)) == 2000
    batch_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2,000" in batch_page  # the count as English writes it


def test_without_a_mail_server_mails_land_in_the_outbox(app, client, login_as):
    app.config["MAIL_SERVER"] = ""
    login_as("admin")
    customer = make_customer(email="outbox@shop.test", language="de")
    url = f"/customers/{customer.id}"
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    work_queue()
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "outbox@shop.test"
    assert "outbox@shop.test" in client.get("/settings/outbox").get_data(as_text=True)


def test_smtp_down_then_back_sends_each_mail_once(app, client, login_as, smtp_server):
    """While the server is down the run pauses MAIL_RETRY_ATTEMPTS times; with no back-off the
    first mail is due at every pause, so it alone uses up its attempts and is failed. When the
    server is back the others go out by themselves, and staff send the failed one again from
    the mailing's page: each mail once."""
    login_as("admin")
    update_settings({"mail_rate_per_minute": 0})
    db.session.commit()
    customers = [make_customer(language="fr") for _ in range(5)]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_RETRY_BACKOFF_SECONDS=0,
                      MAIL_RETRY_BACKOFF_MAX_SECONDS=0.02, MAIL_TIMEOUT=2)
    token = csrf_token(client, "/customers/")
    client.post("/customers/send-password", data={
        "csrf_token": token, "customer_ids": [str(c.id) for c in customers], "confirmed": "1"})
    huey.execute(huey.dequeue())  # the batch runs once while the server is down
    assert smtp_server.messages == []
    logs = db.session.scalars(select(MailLog).order_by(MailLog.id)).all()
    attempts = app.config["MAIL_RETRY_ATTEMPTS"]
    assert [(log.status, log.attempts) for log in logs] == (
        [(MailStatus.FAILED, attempts)] + [(MailStatus.QUEUED, 0)] * 4), _debug_logs()
    assert logs[0].error_kind == "server"

    use_smtp(app, smtp_server)
    work_queue()
    by_themselves = sorted(r for e in smtp_server.messages for r in e.rcpt_tos)
    assert by_themselves == sorted(c.email for c in customers[1:]), _debug_logs()
    batch_url = f"/mails/batches/{logs[0].batch_id}"
    client.post(batch_url + "/retry-failed", data={"csrf_token": csrf_token(client, batch_url)})
    work_queue()
    recipients = sorted(r for e in smtp_server.messages for r in e.rcpt_tos)
    assert recipients == sorted(c.email for c in customers), _debug_logs()


def test_a_template_with_an_unknown_placeholder_is_refused(client, login_as):
    login_as("admin")
    url = "/settings/notifications/account_password/de"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "subject": "Hallo [[first_name]]",
                                      "body": "[[reset_link]] [[password]]"})
    assert "[[password]]" in response.get_data(as_text=True)
    missing = client.post(url, data={"csrf_token": csrf_token(client, url),
                                     "subject": "Hallo", "body": "Kein Link"})
    assert "[[reset_link]]" in missing.get_data(as_text=True)


def _debug_logs():
    return [(log.recipient, log.status, log.error_kind, log.attempts, log.error)
            for log in db.session.scalars(select(MailLog))]


def test_a_run_that_died_mid_group_leaves_a_few_mails_in_doubt(app, smtp_server):
    """A worker killed mid-group leaves the mails it had claimed "sending". Only the first
    SETTLE_EVERY of them may have gone out (sent mails are committed that many at a time, in id
    order): the next run marks those failed (interrupted) and sends all the others, once."""
    from shopadmin.notifications import services
    from shopadmin.notifications.batches import run_batch
    from shopadmin.notifications.delivery import GROUP, SETTLE_EVERY

    use_smtp(app, smtp_server)
    update_settings({"mail_rate_per_minute": 0})
    customers = [make_customer(language="pl") for _ in range(GROUP + 5)]
    batch = services.send_password_mails([c.id for c in customers], None)
    db.session.commit()
    logs = db.session.scalars(select(MailLog).where(MailLog.batch_id == batch.id)
                              .order_by(MailLog.id)).all()
    claimed_at = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    claimed = SETTLE_EVERY + 3
    for log in logs[:claimed]:  # what a run killed while handing over logs[0] leaves behind
        log.status, log.attempts, log.updated_at = MailStatus.SENDING, 1, claimed_at
    db.session.commit()
    assert run_batch(batch.id) is None
    recipients = sorted(r for e in smtp_server.messages for r in e.rcpt_tos)
    assert recipients == sorted(log.recipient for log in logs[SETTLE_EVERY:])
    interrupted = db.session.scalars(select(MailLog).where(
        MailLog.status == MailStatus.FAILED)).all()
    assert sorted(log.id for log in interrupted) == [log.id for log in logs[:SETTLE_EVERY]]
    assert {log.error_kind for log in interrupted} == {"interrupted"}
    # The others' claim was given back before they went out on their first attempt.
    assert {log.attempts for log in logs[SETTLE_EVERY:claimed]} == {1}


def test_server_refusing_mid_group_leaves_the_rest_queued(app):
    """The server gives up in the middle of a group (421 after two mails): the mails after it
    were never handed over, so they are queued again with their attempts unchanged."""
    import socket

    from aiosmtpd.controller import Controller

    from shopadmin.notifications import services
    from shopadmin.notifications.delivery import MailContext, deliver_group
    from shopadmin.notifications.transport import Transport

    class ClosingAfterTwo:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            if len(self.messages) >= 2:
                return "421 Service not available, closing transmission channel"
            self.messages.append(envelope)
            return "250 OK"

    smtp_server = ClosingAfterTwo()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_server.port = probe.getsockname()[1]
    controller = Controller(smtp_server, hostname="127.0.0.1", port=smtp_server.port)
    controller.start()
    use_smtp(app, smtp_server)
    customers = [make_customer(language="de") for _ in range(6)]
    batch = services.send_password_mails([c.id for c in customers], None)
    db.session.commit()
    ids = list(db.session.scalars(select(MailLog.id).where(MailLog.batch_id == batch.id)
                                  .order_by(MailLog.id)))
    try:
        with Transport() as transport:
            outcomes = deliver_group(ids, transport, MailContext.load())
    finally:
        controller.stop()
    logs = [db.session.get(MailLog, i) for i in ids]
    assert [log.status for log in logs] == [MailStatus.SENT] * 2 + [MailStatus.QUEUED] * 4
    assert [log.attempts for log in logs] == [1, 1, 1, 0, 0, 0]
    assert outcomes[ids[2]].value == "server" and len(smtp_server.messages) == 2


def test_mail_log_and_mailing_pages_show_each_mail(app, client, login_as):
    from shopadmin.notifications import services

    app.config["MAIL_SERVER"] = ""  # the outbox
    login_as("admin")
    customers = [make_customer(language=code) for code in ("de", "pl")]
    batch = services.send_password_mails([c.id for c in customers], None)
    db.session.commit()
    failed = db.session.scalar(select(MailLog).where(MailLog.customer_id == customers[1].id))
    failed.status, failed.error, failed.error_kind = MailStatus.FAILED, "550 no", "refused"
    db.session.commit()
    for url in ("/mails/", f"/mails/batches/{batch.id}"):
        page = client.get(url).get_data(as_text=True)
        for customer in customers:
            assert f'href="/customers/{customer.id}"' in page and customer.email in page
        assert "Polish" in page and "German" in page
        assert f"/mails/{failed.id}/retry" in page, url


def test_a_dutch_customer_gets_the_default_language_and_can_switch_the_page(
        app, client, login_as, smtp_server):
    """The shop writes no Dutch mails: the confirmation says so, the mail and the page are in
    the default language, and the customer can switch the page; the notice follows it."""
    use_smtp(app, smtp_server)
    login_as("staff")
    customer = make_customer(first_name="Sanne", email="sanne@winkel.test", language="nl")
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "in English?" in page  # the Send button's question names the mail's language
    confirm = client.post("/customers/send-password", data={
        "csrf_token": csrf_token(client, "/customers/"), "customer_ids": [str(customer.id)]})
    text = confirm.get_data(as_text=True)
    assert 'id="mail-fallback"' in text and "Dutch (1)" in text and "1 mail in English" in text
    client.post(f"/customers/{customer.id}/send-password",
                data={"csrf_token": csrf_token(client, f"/customers/{customer.id}")})
    work_queue()
    [envelope] = smtp_server.messages
    link = LINK.search(text_of(parse(envelope))).group(0)

    visitor = app.test_client()
    visitor.get(link.replace("http://shop.test", ""))
    assert 'lang="en"' in visitor.get("/account/reset").get_data(as_text=True)
    german = visitor.get("/account/reset?lang=de").get_data(as_text=True)
    assert 'lang="de"' in german and "Passwort festlegen" in german
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', german).group(1)
    done = visitor.post("/account/reset", data={"csrf_token": token,
                                                "password": "Tulpen aan de Amstel 2026",
                                                "confirm": "Tulpen aan de Amstel 2026"})
    assert "Ihr Passwort wurde gespeichert" in done.get_data(as_text=True)
    work_queue()
    notice = db.session.scalar(select(MailLog).where(MailLog.template_key == "password_changed"))
    assert notice.language == "de"


def test_the_same_send_twice_makes_one_mailing(app, client, login_as):
    login_as("staff")
    ids = [str(make_customer(email=f"twice{n}@shop.test").id) for n in range(3)]
    page = client.post("/customers/send-password", data={
        "csrf_token": csrf_token(client, "/customers/"), "customer_ids": ids})
    form = dict(re.findall(r'name="(csrf_token|submission|origin)"[^>]*value="([^"]*)"',
                           page.get_data(as_text=True)))
    data = {**form, "confirmed": "1", "customer_ids": ids}
    first = client.post("/customers/send-password", data=data)  # a double click
    second = client.post("/customers/send-password", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    # Another form (a second tab, a colleague) sending the same mail to the same customers
    # moments later: the same mailing too.
    colleague = client.post("/customers/send-password", data={
        "csrf_token": csrf_token(client, "/customers/"), "confirmed": "1",
        "submission": "another-form", "customer_ids": ids})
    assert colleague.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count(MailLog.id))) == 3


def test_the_customer_page_send_returns_while_the_mail_server_hangs(app, client, login_as):
    """A server that accepts the connection and never answers: the page does not wait."""
    import socket
    import time

    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(5)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=hanging.getsockname()[1],
                      MAIL_TIMEOUT=30)
    try:
        login_as("staff")
        customer = make_customer(email="patient@shop.test")
        url = f"/customers/{customer.id}"
        token = csrf_token(client, url)
        started = time.monotonic()
        response = client.post(url + "/send-password", data={"csrf_token": token})
        assert response.status_code == 302 and time.monotonic() - started < 2
        log = db.session.scalar(select(MailLog))
        assert log.status == MailStatus.QUEUED  # the worker sends it
    finally:
        hanging.close()


def test_a_mailing_to_all_matching_gets_its_recipients_from_the_worker(
        app, client, login_as, smtp_server):
    use_smtp(app, smtp_server)
    login_as("staff")
    for n in range(5):
        make_customer(email=f"stadt{n}@shop.test", billing_city="Łódź" if n % 2 else "Gdańsk")
    data = {"csrf_token": csrf_token(client, "/customers/"), "action": "send_password",
            "scope": "all", "query": "q=lodz"}
    confirm = client.post("/customers/bulk", data=data).get_data(as_text=True)
    assert "2 mails in English" in confirm
    response = client.post("/customers/bulk", data={**data, "confirmed": "yes"})
    assert response.status_code == 302
    batch = db.session.scalar(select(MailBatch))
    assert batch.recipients_pending and batch.query == "q=lodz"
    assert db.session.scalar(select(func.count(MailLog.id))) == 0  # none listed by the request
    work_queue()
    assert sorted(e.rcpt_tos[0] for e in smtp_server.messages) == [
        "stadt1@shop.test", "stadt3@shop.test"]


def mail_anna_jurgen_and_zofia(app, server):
    """The password mail to three customers through `server`, the second at an address whose
    local part is not ASCII; the mailing run to its end."""
    from shopadmin.notifications import services
    from shopadmin.notifications.batches import run_batch

    use_smtp(app, server)
    customers = [make_customer(email="anna@laden.test", language="de"),
                 make_customer(email="jürgen@laden.test", language="de"),
                 make_customer(email="zofia@laden.test", language="pl")]
    batch = services.send_password_mails([c.id for c in customers], None)
    db.session.commit()
    assert run_batch(batch.id) is None
    return batch


def test_an_address_the_server_cannot_take_fails_alone_and_the_mailing_goes_on(
        app, client, login_as, ascii_smtp_server):
    """An address whose local part is not ASCII (jürgen@..., valid for email-validator) needs
    SMTPUTF8, which the server does not offer: that mail fails, saying so in the staff's
    language, and the others go out (it used to stop the whole mailing)."""
    batch = mail_anna_jurgen_and_zofia(app, ascii_smtp_server)
    assert sorted(r for e in ascii_smtp_server.messages for r in e.rcpt_tos) == [
        "anna@laden.test", "zofia@laden.test"]
    refused = db.session.scalars(select(MailLog).where(
        MailLog.recipient == "jürgen@laden.test")).one()
    assert (refused.status, refused.error_kind) == (MailStatus.FAILED, "not_ascii")
    assert "not ASCII" in refused.error and "SMTPUTF8" in refused.error
    assert db.session.get(MailBatch, batch.id).status.value == "done"
    login_as("staff", language="de")
    page = client.get(f"/mails/batches/{batch.id}").get_data(as_text=True)
    assert "das der Mailserver des Shops nicht anbietet" in page


def test_an_address_that_is_not_ascii_goes_out_in_utf8_where_the_server_offers_smtputf8(
        app, smtp_server):
    """With a server that offers SMTPUTF8 the same address is delivered, once, in UTF-8 in the
    envelope and the header (RFC 6531, 6532); the others as before."""
    mail_anna_jurgen_and_zofia(app, smtp_server)
    received = {e.rcpt_tos[0]: e for e in smtp_server.messages}
    assert sorted(received) == ["anna@laden.test", "jürgen@laden.test", "zofia@laden.test"]
    assert len(smtp_server.messages) == 3
    jurgen = received["jürgen@laden.test"]
    assert "SMTPUTF8" in jurgen.mail_options
    assert "To: jürgen@laden.test\r\n".encode() in jurgen.original_content
    assert "SMTPUTF8" not in received["anna@laden.test"].mail_options
    assert {log.status for log in db.session.scalars(select(MailLog))} == {MailStatus.SENT}


def test_a_sender_configured_with_a_name_sends_from_that_name_and_address(app, smtp_server):
    """MAIL_DEFAULT_SENDER as "Sklep Łódź <sklep@example.pl>": the mail comes from that name
    and address, and the envelope carries the address alone; a shop name that is not ASCII or
    holds a comma reaches the customer as it is written."""
    from shopadmin.config import build_config
    from shopadmin.notifications import services
    from shopadmin.notifications.batches import run_batch

    with mock.patch.dict(os.environ, {"MAIL_DEFAULT_SENDER": "Sklep Łódź <sklep@example.pl>"}):
        configured = build_config(Path(app.instance_path))
    app.config.update({key: configured[key] for key in
                       ("MAIL_DEFAULT_SENDER", "MAIL_DEFAULT_SENDER_NAME")})
    use_smtp(app, smtp_server)
    customer = make_customer(email="ola@sklep.test", language="pl")
    batch = services.send_password_mails([customer.id], None)
    db.session.commit()
    assert run_batch(batch.id) is None
    update_settings({"shop_name": "Bäckerei Müller, Söhne"})
    db.session.commit()
    batch = services.send_password_mails([make_customer(email="jan@sklep.test").id], None)
    db.session.commit()
    assert run_batch(batch.id) is None
    first, second = smtp_server.messages
    assert first.mail_from == second.mail_from == "sklep@example.pl"
    senders = [email.message_from_bytes(envelope.original_content, policy=policy.default)["From"]
               for envelope in (first, second)]
    # (formataddr's encoded words were encoded again: customers read =?utf-8?b?...?=)
    assert [(s.addresses[0].display_name, s.addresses[0].addr_spec) for s in senders] == [
        ("Sklep Łódź", "sklep@example.pl"), ("Bäckerei Müller, Söhne", "sklep@example.pl")]
