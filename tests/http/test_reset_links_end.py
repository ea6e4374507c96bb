"""A password link dies when the customer's e-mail address, password or state changes."""

import re

from sqlalchemy import select

from shopadmin.extensions import db, huey
from shopadmin.notifications.models import OutboxMessage

from ..conftest import csrf_token
from ..factories import make_customer
from ..forms import form_values

LINK = re.compile(r"http://shop\.test(/account/reset/[A-Za-z0-9_\-]+)")


def mail_a_link(app, client, customer) -> str:
    app.config["MAIL_SERVER"] = ""
    url = f"/customers/{customer.id}"
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    while (task := huey.dequeue()) is not None:  # the worker's part: it sends the mail
        huey.execute(task)
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return LINK.search(message.text_body).group(1)


def link_opens(app, path: str) -> bool:
    visitor = app.test_client()
    visitor.get(path)
    return 'name="password"' in visitor.get("/account/reset").get_data(as_text=True)


def test_a_new_e_mail_address_ends_the_link_mailed_to_the_old_one(app, client, login_as):
    login_as("staff")
    customer = make_customer(email="typo@exmaple.com")
    path = mail_a_link(app, client, customer)
    assert link_opens(app, path)
    url = f"/customers/{customer.id}"
    form = form_values(client.get(url).get_data(as_text=True))
    saved = client.post(url, data={**form, "email": "right@example.com"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert not link_opens(app, path)
    assert link_opens(app, mail_a_link(app, client, customer))  # a new link works


def test_a_password_set_elsewhere_ends_the_link(app, client, login_as):
    login_as("staff")
    customer = make_customer()
    first, second = mail_a_link(app, client, customer), None
    customer.password_hash = "set through the shop"
    db.session.commit()
    assert not link_opens(app, first)
    second = mail_a_link(app, client, customer)
    assert link_opens(app, second)


def test_deleting_ends_the_link_and_restoring_does_not_bring_it_back(app, client, login_as):
    login_as("admin")
    customer = make_customer()
    path = mail_a_link(app, client, customer)
    url = f"/customers/{customer.id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert not link_opens(app, path)
    client.post(f"/customers/trash/{customer.id}/restore",
                data={"csrf_token": csrf_token(client, "/customers/trash/")})
    assert not link_opens(app, path)


def test_bulk_delete_ends_the_links(app, client, login_as):
    login_as("admin")
    customers = [make_customer(), make_customer()]
    paths = [mail_a_link(app, client, c) for c in customers]
    response = client.post("/customers/bulk", data={
        "csrf_token": csrf_token(client, "/customers/"), "action": "delete", "scope": "selected",
        "ids": [str(c.id) for c in customers], "query": "", "confirmed": "yes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    for customer in customers:
        client.post(f"/customers/trash/{customer.id}/restore",
                    data={"csrf_token": csrf_token(client, "/customers/trash/")})
    assert not any(link_opens(app, path) for path in paths)


def test_erasure_ends_the_link(app, client, login_as):
    login_as("admin")
    customer = make_customer(email="gone@example.com")
    path = mail_a_link(app, client, customer)
    url = f"/customers/{customer.id}/privacy/erase"
    client.post(url, data={"csrf_token": csrf_token(client, url), "email": "gone@example.com"})
    db.session.expire_all()
    assert not link_opens(app, path)
