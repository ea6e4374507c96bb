"""In a real browser: follow the link of a received password mail, set a password in Polish,
and see the link refused the second time."""

import email
import re
from email import policy

import pytest

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.notifications import services
from shopadmin.notifications.tasks import send_now

from ..factories import make_customer, make_staff

pytestmark = pytest.mark.browser


def test_polish_customer_sets_a_password_from_the_mail(app, page, live_server, smtp_server,
                                                       screenshot):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    customer = make_customer(first_name="Zofia", email="zofia@poczta.test", language="pl")
    log = services.send_password_mail(customer, make_staff("admin"), in_background=False)
    db.session.commit()
    send_now(log.id)
    [envelope] = smtp_server.messages
    body = email.message_from_bytes(envelope.content, policy=policy.default)
    text = body.get_body(("plain",)).get_content()
    path = re.search(r"http://shop\.test(/account/reset/[A-Za-z0-9_\-]+)", text).group(1)

    page.goto(live_server.url + path)
    assert "/account/reset" in page.url and path not in page.url  # the token left the address
    assert page.get_attribute("html", "lang") == "pl"
    page.fill("#password", "Wiosna nad Wisłą 2026")
    page.fill("#confirm", "Wiosna nad Wisłą 2026")
    screenshot("reset-form")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#reset-done")
    assert "Hasło zostało zapisane" in page.inner_text("main")
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).password_hash

    page.goto(live_server.url + path)
    page.wait_for_selector("#link-invalid")
    assert "Tego linku nie można już użyć" in page.inner_text("main")
    screenshot("link-refused")
