"""The storefront intake API: auth, validation, idempotency and the guest policy."""

from sqlalchemy import func, select

from shopadmin.audit import AuditEvent
from shopadmin.customers.models import ConsentEvent, ConsentSource, Customer, Origin
from shopadmin.extensions import db
from shopadmin.orders.models import Order
from shopadmin.orders.services import create_api_key, revoke_api_key
from shopadmin.settings.services import update_settings

from ..factories import make_customer


def new_key() -> str:
    _, secret = create_api_key("Storefront", None)
    db.session.commit()
    return secret


def post(client, path, body, key, **headers):
    return client.post(f"/api/v1{path}", json=body, headers={"X-API-Key": key, **headers})


ORDER = {
    "number": "W-1001", "email": "Guest@Example.test", "name": "Zoé Łukasik", "currency": "EUR",
    "shipping": "4.95", "billing_address": {"address1": "Rue 1", "city": "Lyon", "country": "FR"},
    "lines": [{"sku": "A-1", "name": "Mug", "quantity": 2, "unit_price": "12.50"}],
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_missing_wrong_and_revoked_keys_are_refused(client):
    assert client.post("/api/v1/customers", json={"email": "a@b.test"}).status_code == 401
    response = post(client, "/customers", {"email": "a@b.test"}, "sk_wrong")
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["field"] == "X-API-Key"
    secret = new_key()
    assert post(client, "/customers", {"email": "a@b.test"}, secret).status_code == 201
    from shopadmin.orders.services import find_api_key

    revoke_api_key(find_api_key(secret), None)
    db.session.commit()
    assert post(client, "/customers", {"email": "c@b.test"}, secret).status_code == 401
    assert count(Customer) == 1


def test_no_session_cookie_and_no_csrf(client):
    response = post(client, "/customers", {"email": "a@b.test"}, new_key())
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_bad_json_and_unknown_fields(client):
    secret = new_key()
    response = client.post("/api/v1/orders", data="{not json", headers={
        "X-API-Key": secret, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"errors": [
        {"field": "(body)", "code": "invalid_json", "problem": "is not valid JSON"}]}
    response = post(client, "/customers", ["a list"], secret)
    assert response.status_code == 422
    response = post(client, "/customers", {"email": "a@b.test", "shoe_size": 42}, secret)
    assert response.get_json()["errors"] == [
        {"field": "shoe_size", "code": "unknown_field", "problem": "unknown field"}]
    response = post(client, "/orders", {**ORDER, "lines": [{"name": "Mug", "quantity": 0,
                                                              "unit_price": "x", "colour": 1}]},
                    secret)
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert fields == {"lines[0].colour", "lines[0].quantity", "lines[0].unit_price"}
    response = post(client, "/orders", {**ORDER, "currency": "XXX", "total": "1.00",
                                        "lines": [{"name": "Mug", "quantity": 0,
                                                   "unit_price": "1.234"}]}, secret)
    fields = {error["field"] for error in response.get_json()["errors"]}
    # The total is compared with the lines once they are valid (test_api_contract.py).
    assert fields == {"currency", "lines[0].quantity", "lines[0].unit_price"}
    assert count(Order) == 0 and count(Customer) == 0


def test_customer_signup_enters_the_register_with_consent(client):
    response = post(client, "/customers", {"email": "Ana@Shop.test", "first_name": "Ana",
                                           "newsletter": True, "language": "fr"}, new_key())
    assert response.status_code == 201
    customer = db.session.scalar(select(Customer))
    assert (customer.email_key, customer.origin, customer.newsletter) == (
        "ana@shop.test", Origin.SIGNUP, True)
    event = db.session.scalar(select(ConsentEvent))
    assert event.source == ConsentSource.STOREFRONT and event.subscribed
    again = post(client, "/customers", {"email": "ana@shop.test"}, new_key())
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["field"] == "email"


def test_newsletter_subscribe_and_unsubscribe(client):
    secret = new_key()
    assert post(client, "/newsletter", {"email": "new@shop.test", "subscribed": True},
                secret).status_code == 201
    customer = db.session.scalar(select(Customer))
    assert customer.newsletter
    response = post(client, "/newsletter", {"email": "NEW@shop.test", "subscribed": False}, secret)
    assert response.status_code == 200
    db.session.refresh(customer)
    assert not customer.newsletter
    assert [e.subscribed for e in db.session.scalars(select(ConsentEvent).order_by(
        ConsentEvent.id))] == [True, False]
    response = post(client, "/newsletter", {"email": "x@shop.test", "subscribed": False}, secret)
    assert response.status_code == 200 and response.get_json()["customer_id"] is None
    assert count(Customer) == 1


def test_order_of_a_registered_customer(client):
    customer = make_customer(email="reg@shop.test")
    response = post(client, "/orders", {**ORDER, "email": "REG@shop.test"}, new_key())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["customer_id"] == customer.id and body["total"] == "29.95"
    order = db.session.scalar(select(Order))
    assert [line.line_total for line in order.lines] == [25]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order.received"))


def test_guest_policy_keep_out(client):
    response = post(client, "/orders", ORDER, new_key())
    assert response.status_code == 201
    assert response.get_json()["guest"] is True
    assert count(Customer) == 0
    order = db.session.scalar(select(Order))
    assert (order.email_key, order.name, order.country) == ("guest@example.test", "Zoé Łukasik",
                                                            "FR")


def test_guest_policy_create_account(client):
    update_settings({"guest_order_policy": "create_account"})
    db.session.commit()
    response = post(client, "/orders", ORDER, new_key())
    assert response.status_code == 201
    customer = db.session.scalar(select(Customer))
    assert (customer.origin, customer.email_key, customer.first_name, customer.last_name) == (
        Origin.ORDER, "guest@example.test", "Zoé", "Łukasik")
    assert response.get_json()["customer_id"] == customer.id


def test_idempotent_retry_creates_nothing_twice(client):
    secret = new_key()
    first = post(client, "/orders", ORDER, secret, **{"Idempotency-Key": "abc"})
    retry = post(client, "/orders", ORDER, secret, **{"Idempotency-Key": "abc"})
    assert first.status_code == retry.status_code == 201
    assert first.get_json() == retry.get_json()
    assert count(Order) == 1
    other = post(client, "/orders", {**ORDER, "number": "W-2"}, secret,
                 **{"Idempotency-Key": "abc"})
    assert other.status_code == 422
    signup = {"email": "s@shop.test"}
    retried = [post(client, "/customers", signup, secret, **{"Idempotency-Key": "s1"})
               for _ in range(2)]
    assert [r.status_code for r in retried] == [201, 201]
    assert count(Customer) == 1
    # Without the header a repeated order number is refused, not duplicated.
    assert post(client, "/orders", ORDER, secret).status_code == 409


def test_rate_limited_with_json(app, client):
    app.config["API_RATE_LIMIT"] = "2/minute"
    secret = new_key()
    codes = [post(client, "/newsletter", {"email": "r@shop.test", "subscribed": False},
                  secret).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
