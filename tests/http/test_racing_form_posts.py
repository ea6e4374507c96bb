"""Malformed and racing customer form posts get the form back; racing erasures are idempotent."""

import contextlib

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shopadmin.audit import AuditEvent
from shopadmin.customers.models import Customer
from shopadmin.extensions import db

from ..conftest import csrf_token
from ..factories import make_customer

FORM = {"first_name": "Zoé", "last_name": "Müller", "email": "zoe@example.fr",
        "customer_type": "private"}


@contextlib.contextmanager
def colleague_acts_first(action):
    """Run `action` in a session of its own, committed, before the request's first write.

    That is the moment a colleague's request can overtake ours: after our checks have read the
    database and before our row is written.
    """
    done = []

    def act(session):
        if not done and not session.info.get("colleague"):
            done.append(True)
            with Session(db.engine, info={"colleague": True}) as other:
                action(other)
                other.commit()

    def before_flush(session, flush_context, instances):
        act(session)

    def before_write(state):
        if state.is_update or state.is_delete or state.is_insert:
            act(state.session)

    event.listen(Session, "before_flush", before_flush)
    event.listen(Session, "do_orm_execute", before_write)
    try:
        yield done
    finally:
        event.remove(Session, "before_flush", before_flush)
        event.remove(Session, "do_orm_execute", before_write)


def test_garbled_version_gives_the_form_back_with_the_input(client, login_as):
    login_as("admin", language="de")
    customer = make_customer(billing_city="Berlin")
    url = f"/customers/{customer.id}"
    response = client.post(url, data={
        **FORM, "email": customer.email, "billing_city": "Hamburg",
        "csrf_token": csrf_token(client, url), "version": "zwei"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Das Formular ist beschädigt angekommen" in page
    assert 'value="Hamburg"' in page
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).billing_city == "Berlin"


def test_colleague_creating_the_same_email_at_the_same_moment(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/customers/new")

    def create_same(other):
        other.add(Customer(first_name="Zoe", last_name="M", email="ZOE@example.fr",
                           email_key="zoe@example.fr"))

    with colleague_acts_first(create_same) as done:
        response = client.post("/customers/new", data={**FORM, "csrf_token": token,
                                                       "billing_city": "Lyon"})
    assert done, "the colleague's insert did not run"
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "already has this e-mail address" in page
    assert 'value="Lyon"' in page
    assert db.session.scalar(select(func.count(Customer.id))) == 1


def test_two_admins_erasing_the_same_customer_at_once(client, login_as):
    login_as("admin")
    customer = make_customer()
    customer_id, email = customer.id, customer.email
    url = f"/customers/{customer_id}/privacy/erase"
    token = csrf_token(client, url)

    def erase_first(other):
        other.delete(other.get(Customer, customer_id))

    with colleague_acts_first(erase_first) as done:
        response = client.post(url, data={"csrf_token": token, "email": email})
    assert done
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer_id) is None
    # Too late: the colleague's erasure already happened; the page says so rather than 404.
    again = client.post(url, data={"csrf_token": token, "email": email},
                        follow_redirects=True)
    assert again.status_code == 200
    assert "already erased" in again.get_data(as_text=True)
    erased = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "customer.erased", AuditEvent.object_id == customer_id)).all()
    assert len(erased) <= 1

