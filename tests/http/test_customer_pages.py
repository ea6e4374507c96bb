"""The customer pages over HTTP: form, locking conflict, roles, list and bulk actions."""

import re

import pytest
from sqlalchemy import func, select

from shopadmin.audit import AuditEvent
from shopadmin.auth.models import Role
from shopadmin.customers import bulk
from shopadmin.customers.bulk import BulkJob
from shopadmin.customers.models import Customer, CustomerGroup
from shopadmin.extensions import db

from ..conftest import csrf_token
from ..factories import make_customer

FORM = {"first_name": "Zoé", "last_name": "Müller", "email": "zoe@example.fr",
        "customer_type": "private"}


def version_of(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def test_create_a_business_customer(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/customers/new")
    response = client.post("/customers/new", data={
        **FORM, "csrf_token": token, "customer_type": "business", "company_name": "Zoé SARL",
        "billing_country": "FR", "vat_number": "FR40303265045", "newsletter": "y"})
    assert response.status_code == 302
    customer = db.session.scalar(select(Customer))
    assert response.headers["Location"] == f"/customers/{customer.id}"
    assert customer.vat_number == "FR40303265045" and customer.newsletter
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zoé SARL" in page and 'id="consent-history"' in page


def test_errors_are_shown_at_their_fields_in_german(client, login_as):
    login_as("admin", language="de")
    token = csrf_token(client, "/customers/new")
    response = client.post("/customers/new", data={
        **FORM, "csrf_token": token, "customer_type": "business", "company_name": "X",
        "billing_country": "FR", "vat_number": "FR41303265045"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "ist keine gültige USt-IdNr." in page
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_second_save_of_the_same_version_is_refused_and_keeps_input(app, client, login_as):
    login_as("admin")
    customer = make_customer(billing_city="Berlin")
    url = f"/customers/{customer.id}"
    page = client.get(url).get_data(as_text=True)
    token, version = csrf_token(client, url), version_of(page)
    data = {**FORM, "email": customer.email, "csrf_token": token, "version": version}
    first = client.post(url, data={**data, "billing_city": "Hamburg"})
    assert first.status_code == 302
    second = client.post(url, data={**data, "billing_city": "München"})
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "A colleague changed this customer" in text
    assert 'value="München"' in text
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).billing_city == "Hamburg"


def test_staff_cannot_approve(client, login_as):
    login_as("staff")
    customer = make_customer(approved=False)
    url = f"/customers/{customer.id}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={**FORM, "email": customer.email, "approved": "y",
                                      "csrf_token": csrf_token(client, url),
                                      "version": version_of(page)})
    assert response.status_code == 422
    assert "Only an administrator can approve a customer." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Customer, customer.id).approved


def test_form_without_csrf_is_refused(client, login_as):
    login_as("admin")
    response = client.post("/customers/new", data=FORM)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_list_searches_and_keeps_filters_in_the_url(client, login_as):
    login_as("staff")
    make_customer(last_name="Müller", email="m@shop.test")
    make_customer(last_name="Nowak", email="n@shop.test")
    page = client.get("/customers/?q=muller&newsletter=no").get_data(as_text=True)
    assert "m@shop.test" in page and "n@shop.test" not in page
    assert 'id="match-count">1 customer<' in page
    assert "q=muller&amp;newsletter=no" in page


def test_bulk_approve_asks_then_reports(client, login_as):
    login_as("admin")
    waiting = [make_customer(approved=False) for _ in range(3)]
    token = csrf_token(client, "/customers/")
    data = {"csrf_token": token, "action": "approve", "scope": "selected",
            "ids": [str(c.id) for c in waiting[:2]], "query": ""}
    confirm = client.post("/customers/bulk", data=data)
    assert "2 customers will be affected" in confirm.get_data(as_text=True)
    done = client.post("/customers/bulk", data={**data, "confirmed": "yes"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 customers changed, of 2 selected" in page
    approved = db.session.scalars(select(Customer.approved).order_by(Customer.id)).all()
    assert approved == [True, True, False]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.object_type == "customer")) == 2


def test_bulk_approve_is_an_admin_right(client, login_as):
    login_as("staff")
    customer = make_customer(approved=False)
    response = client.post("/customers/bulk", data={
        "csrf_token": csrf_token(client, "/customers/"), "action": "approve",
        "scope": "selected", "ids": [str(customer.id)], "confirmed": "yes"})
    assert response.status_code == 403


def test_large_bulk_runs_as_a_job_on_all_matching(client, login_as, run_jobs, monkeypatch):
    login_as("staff")
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 5)
    monkeypatch.setattr(bulk, "BATCH", 4)
    group = CustomerGroup(name="Stammkunden")
    db.session.add(group)
    db.session.commit()
    for index in range(12):
        make_customer(billing_city="Łódź" if index % 2 else "Kraków")
    response = client.post("/customers/bulk", data={
        "csrf_token": csrf_token(client, "/customers/"), "action": "add_group",
        "group": str(group.id), "scope": "all", "query": "q=lodz", "confirmed": "yes"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    status = client.get(job_url + "?format=json").get_json()
    assert status["finished"] is False
    assert run_jobs() == 1
    status = client.get(job_url + "?format=json").get_json()
    assert status["finished"] and status["percent"] == 100
    job = db.session.scalar(select(BulkJob))
    assert (job.total, job.changed) == (6, 6)
    assert (job.query, job.customer_ids) == ("q=lodz", [])  # described, not listed
    db.session.expire_all()
    assert len(db.session.get(CustomerGroup, group.id).__dict__) and sorted(
        c.billing_city for c in db.session.scalars(select(Customer)) if c.groups
    ) == ["Łódź"] * 6


@pytest.mark.parametrize("withdrawn", ["role", "account"])
def test_a_bulk_job_stops_when_its_starters_right_is_withdrawn(client, login_as, run_jobs,
                                                               monkeypatch, withdrawn):
    """The worker asks before every batch whether the member who started the job may still do
    it: an administrator made staff (or deactivated) between two batches moves no more
    customers to the trash, and the job's page says why it stopped."""
    admin = login_as("admin")
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 5)
    monkeypatch.setattr(bulk, "BATCH", 4)
    customers = [make_customer() for _ in range(12)]
    response = client.post("/customers/bulk", data={
        "csrf_token": csrf_token(client, "/customers/"), "action": "delete",
        "scope": "selected", "ids": [str(c.id) for c in customers], "confirmed": "yes"})
    job_url = response.headers["Location"]
    job = db.session.scalar(select(BulkJob))
    bulk.run_batches(bulk.ACTIONS["delete"], job.customer_ids[:4], admin, {})
    job.done = job.changed = 4  # (its first batch done, as a run that was interrupted)
    if withdrawn == "role":
        admin.role = Role.STAFF
    else:
        admin.active = False
    db.session.commit()
    assert run_jobs() == 1
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.done, job.changed) == ("stopped", 4, 4)
    assert db.session.scalar(select(func.count()).select_from(Customer).where(
        Customer.deleted_at.is_not(None))) == 4
    if withdrawn == "role":  # (a deactivated account is signed out)
        assert client.get(job_url + "?format=json").get_json()["finished"] is True
        page = client.get(job_url).get_data(as_text=True)
        assert "may no longer do it" in page and "Start again" not in page


def test_columns_and_saved_views(client, login_as):
    login_as("staff")
    make_customer(email="a@shop.test", mobile="+49 151 000")
    token = csrf_token(client, "/customers/")
    client.post("/customers/columns", data={"csrf_token": token,
                                            "columns": ["email", "mobile"]})
    page = client.get("/customers/").get_data(as_text=True)
    assert "+49 151 000" in page
    client.post("/customers/views", data={"csrf_token": token, "name": "Polen",
                                          "query": "country=PL&q=x"})
    page = client.get("/customers/").get_data(as_text=True)
    assert ">Polen</a>" in page and "q=x&amp;country=PL" in page


def test_staff_create_a_customer_who_waits_for_approval(client, login_as):
    login_as("staff")
    page = client.get("/customers/new").get_data(as_text=True)
    assert "waits for an administrator to approve them" in page
    response = client.post("/customers/new", data={**FORM, "csrf_token": csrf_token(
        client, "/customers/new"), "version": "0"})
    assert response.status_code == 302, response.get_data(as_text=True)
    customer = db.session.scalar(select(Customer).where(Customer.email == "zoe@example.fr"))
    assert customer.approved is False
    ticked = client.post("/customers/new", data={
        **FORM, "email": "ticked@example.fr", "approved": "y", "version": "0",
        "csrf_token": csrf_token(client, "/customers/new")})
    assert ticked.status_code == 422
    assert "Only an administrator can approve a customer." in ticked.get_data(as_text=True)
