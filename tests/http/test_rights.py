"""Who may do what: every right of auth/rights.py is refused to a member without it, on the
server and in the page that would offer it, and granting or withdrawing a right in that one
table changes every place that asks for it."""

import pytest
from sqlalchemy import select

from shopadmin.auth.models import Role
from shopadmin.auth.rights import GRANTED, Right
from shopadmin.customers.bulk import BulkJob
from shopadmin.customers.models import Customer
from shopadmin.exports.services import start_export
from shopadmin.extensions import db

from ..conftest import csrf_token
from ..factories import make_customer, make_staff
from .test_orders_pages import make_order

APPROVAL_HINT = "Only an administrator can approve a customer."


def _colleagues_jobs():
    colleague = make_staff()
    export = start_export(colleague, "csv", None, "", None)
    bulk_job = BulkJob(actor_id=colleague.id, action="approve", customer_ids=[1], total=1)
    db.session.add(bulk_job)
    db.session.commit()
    return export.id, bulk_job.id


def _asked(client, right: Right) -> list[tuple[int, str]]:
    """(status, page) of the requests that need the right, as a member would make them."""
    customer = make_customer(approved=False)
    if right is Right.ADMINISTER:
        paths = ["/settings/", "/settings/staff/", "/settings/api-keys/", "/settings/security-log"]
        return [(client.get(path).status_code, path) for path in paths]
    if right is Right.REMOVE_CUSTOMERS:
        paths = [f"/customers/{customer.id}/delete", "/customers/trash/"]
        answers = [(client.get(path).status_code, path) for path in paths]
        token = csrf_token(client, "/customers/")
        bulk = client.post("/customers/bulk", data={
            "csrf_token": token, "action": "delete", "scope": "selected",
            "ids": [str(customer.id)], "query": ""})
        return answers + [(bulk.status_code, "bulk delete")]
    if right is Right.PRIVACY_REQUESTS:
        paths = [f"/customers/{customer.id}/privacy/export",
                 f"/customers/{customer.id}/privacy/erase", "/customers/privacy-log"]
        return [(client.get(path).status_code, path) for path in paths]
    if right is Right.APPROVE_CUSTOMERS:
        token = csrf_token(client, "/customers/")
        bulk = client.post("/customers/bulk", data={
            "csrf_token": token, "action": "approve", "scope": "selected",
            "ids": [str(customer.id)], "query": ""})
        return [(bulk.status_code, "bulk approve")]
    if right is Right.CHANGE_ORDERS:
        make_order("R-1")
        token = csrf_token(client, "/orders/R-1")
        answer = client.post("/orders/R-1", data={"status": "shipped", "csrf_token": token})
        return [(answer.status_code, "order status")]
    if right is Right.SEE_COLLEAGUES_JOBS:
        export_id, bulk_id = _colleagues_jobs()
        return [(client.get(f"/exports/{export_id}").status_code, "colleague's export"),
                (client.get(f"/customers/bulk/{bulk_id}").status_code, "colleague's bulk job")]
    raise AssertionError(f"no request of this test needs {right}: add one")


@pytest.mark.parametrize("right", list(Right))
def test_every_right_is_refused_without_it(client, login_as, right):
    login_as("staff")
    refused = {403, 404}  # a colleague's job is not found, not forbidden (its id says nothing)
    answers = _asked(client, right)
    assert answers and all(status in refused for status, _ in answers), answers


@pytest.mark.parametrize("right", list(Right))
def test_every_right_is_answered_with_it(client, login_as, right):
    login_as("admin")
    answers = _asked(client, right)
    assert answers and all(status in (200, 302) for status, _ in answers), answers


def test_a_right_granted_in_the_table_reaches_the_form_the_list_and_the_service(
        client, login_as, monkeypatch):
    login_as("staff")
    customer = make_customer(approved=False)
    edit = f"/customers/{customer.id}"

    list_page = client.get("/customers/").get_data(as_text=True)
    assert APPROVAL_HINT in client.get(edit).get_data(as_text=True)
    assert 'value="approve"' not in list_page and ">Trash<" not in list_page

    monkeypatch.setitem(GRANTED, Role.STAFF, frozenset({Right.APPROVE_CUSTOMERS}))
    page = client.get(edit).get_data(as_text=True)
    assert APPROVAL_HINT not in page and 'id="removal-actions"' not in page
    list_page = client.get("/customers/").get_data(as_text=True)
    assert 'value="approve"' in list_page and 'value="delete"' not in list_page
    token = csrf_token(client, "/customers/")
    done = client.post("/customers/bulk", data={
        "csrf_token": token, "action": "approve", "scope": "selected", "ids": [str(customer.id)],
        "query": "", "confirmed": "yes"})
    assert done.status_code == 302
    assert db.session.scalar(select(Customer.approved).where(Customer.id == customer.id))


def test_a_right_withdrawn_from_administrators_is_gone_everywhere(client, login_as,
                                                                   monkeypatch):
    login_as("admin")
    customer = make_customer()
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/customers/{customer.id}/delete" in page
    assert ">Trash<" in client.get("/customers/").get_data(as_text=True)

    monkeypatch.setitem(GRANTED, Role.ADMIN, frozenset(Right) - {Right.REMOVE_CUSTOMERS})
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/customers/{customer.id}/delete" not in page
    assert f"/customers/{customer.id}/privacy/erase" in page  # the other rights stay
    assert ">Trash<" not in client.get("/customers/").get_data(as_text=True)
    assert client.get("/customers/trash/").status_code == 403
    token = csrf_token(client, "/customers/")
    bulk = client.post("/customers/bulk", data={
        "csrf_token": token, "action": "delete", "scope": "selected", "ids": [str(customer.id)],
        "query": "", "confirmed": "yes"})
    assert bulk.status_code == 403
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).deleted_at is None
