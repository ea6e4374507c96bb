"""The storefront API's contract: bodies checked against the columns and ISO lists, one JSON
error shape for every failure, the limit per key, and real answers valid against the OpenAPI
document the app serves (on SQLite and, with DATABASE_URL, PostgreSQL)."""

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from sqlalchemy import func, select

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.orders.models import Order, OrderLine

from .test_orders_api import ORDER, new_key, post


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return OpenAPI.from_dict(response.get_json())


def checked(spec, response):
    """The response, after openapi-core found it valid against the served document (for the
    operation of the request's method and path; the request body was consumed by the app)."""
    request = MockRequest("http://localhost", response.request.method, response.request.path)
    spec.validate_response(request, WerkzeugOpenAPIResponse(response))
    return response


def errors(response) -> dict[str, str]:
    assert response.mimetype == "application/json", response.data[:200]
    return {error["field"]: error["code"] for error in response.get_json()["errors"]}


def orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def test_lengths_and_codes_come_from_the_columns(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    order, line = schemas["OrderIn"]["properties"], schemas["LineIn"]["properties"]
    number = order["number"]
    assert number["maxLength"] == Order.__table__.c.number.type.length == 40
    assert line["name"]["maxLength"] == OrderLine.__table__.c.name.type.length
    address = schemas["AddressIn"]["properties"]
    postcode = next(option for option in address["postcode"]["anyOf"] if "maxLength" in option)
    assert postcode["maxLength"] == Customer.__table__.c.billing_postcode.type.length


def test_a_too_long_number_and_a_country_that_is_no_code_are_refused(client, spec):
    secret = new_key()
    body = {**ORDER, "number": "N" * 41,
            "billing_address": {"city": "Lyon", "country": "France"},
            "shipping_address": {"postcode": "9" * 21, "country": "de"}}
    response = checked(spec, post(client, "/orders", body, secret))
    assert response.status_code == 422
    assert errors(response) == {"number": "too_long", "billing_address.country": "invalid_code",
                                "shipping_address.postcode": "too_long"}
    problems = {error["field"]: error["problem"] for error in response.get_json()["errors"]}
    assert problems["number"] == "must be at most 40 characters long"
    assert orders() == 0

    # Exactly as long as the column, and a lower-case code: stored whole, the code upper-cased.
    body = {**ORDER, "number": "N" * 40, "billing_address": {"country": "fr"}}
    response = checked(spec, post(client, "/orders", body, secret))
    assert response.status_code == 201
    stored = db.session.scalar(select(Order))
    assert stored.number == "N" * 40 and stored.billing_address == {"country": "FR"}


def test_currency_and_language_are_iso_codes(client, spec):
    secret = new_key()
    for currency, status in (("EURO", 422), ("XXX", 422), ("", 422), ("jpy", 201)):
        response = checked(spec, post(client, "/orders", {
            **ORDER, "number": f"C-{currency}", "currency": currency}, secret))
        assert response.status_code == status, currency
    assert db.session.scalar(select(Order.currency)) == "JPY"
    response = checked(spec, post(client, "/customers",
                                  {"email": "k@shop.test", "language": "klingon"}, secret))
    assert errors(response) == {"language": "invalid_code"}
    response = checked(spec, post(client, "/customers",
                                  {"email": "k@shop.test", "language": "nl-BE"}, secret))
    assert response.status_code == 201
    assert db.session.scalar(select(Customer.language)) == "nl"


def test_wrong_types_nulls_and_shapes(client, spec):
    secret = new_key()
    body = {**ORDER, "number": None, "email": 5, "shipping": True, "placed_at": 1700000000,
            "lines": [{"name": "Mug", "quantity": "2", "unit_price": "1.234"}, "a line"],
            "billing_address": ["Rue 1"], "name": None}
    response = checked(spec, post(client, "/orders", body, secret))
    assert response.status_code == 422
    assert errors(response) == {
        "number": "required", "email": "wrong_type", "shipping": "wrong_type",
        "placed_at": "wrong_type", "lines[0].quantity": "wrong_type",
        "lines[0].unit_price": "invalid_amount", "lines[1]": "not_object",
        "billing_address": "not_object"}
    response = checked(spec, post(client, "/orders", {**ORDER, "lines": []}, secret))
    assert errors(response) == {"lines": "too_short"}
    response = checked(spec, post(client, "/newsletter", {"email": "a@shop.test",
                                                         "subscribed": "yes"}, secret))
    assert errors(response) == {"subscribed": "wrong_type"}
    response = checked(spec, post(client, "/customers", [], secret))
    assert errors(response) == {"(body)": "not_object"}
    response = checked(spec, post(client, "/customers", {"email": "not an address"}, secret))
    assert errors(response) == {"email": "invalid_email"}
    assert orders() == 0


def test_a_total_that_does_not_add_up_and_a_known_number(client, spec):
    secret = new_key()
    response = checked(spec, post(client, "/orders", {**ORDER, "total": "1.00"}, secret))
    assert response.status_code == 422 and errors(response) == {"total": "total_mismatch"}
    assert checked(spec, post(client, "/orders", ORDER, secret)).status_code == 201
    response = checked(spec, post(client, "/orders", ORDER, secret))
    assert response.status_code == 409 and errors(response) == {"number": "already_exists"}
    response = checked(spec, post(client, "/orders", {**ORDER, "number": "W-2", "lines": [
        {"name": "Gold", "quantity": 1_000_000, "unit_price": "9999999999.99"}]}, secret))
    assert response.status_code == 422 and errors(response) == {"total": "out_of_range"}


def test_bad_json_a_missing_key_and_a_huge_body(app, client, spec):
    secret = new_key()
    response = client.post("/api/v1/orders", data="{not json", headers={
        "X-API-Key": secret, "Content-Type": "application/json"})
    assert checked(spec, response).status_code == 400
    assert errors(response) == {"(body)": "invalid_json"}
    for body in ("[" * 100_000, '{"email": ' + "[" * 5000 + "]" * 5000 + "}", ""):
        response = client.post("/api/v1/customers", data=body, headers={
            "X-API-Key": secret, "Content-Type": "application/json"})
        assert checked(spec, response).status_code == 400  # nested too deep: no crash
        assert errors(response) == {"(body)": "invalid_json"}
    response = client.post("/api/v1/customers", data="null", headers={
        "X-API-Key": secret, "Content-Type": "application/json"})
    assert errors(checked(spec, response)) == {"(body)": "not_object"}
    response = client.post("/api/v1/customers", data='{"email": "a@shop.test"}', headers={
        "X-API-Key": secret, "Content-Type": "text/plain"})
    assert checked(spec, response).status_code == 400
    response = checked(spec, post(client, "/orders", ORDER, "sk_unknown"))
    assert response.status_code == 401 and errors(response) == {"X-API-Key": "unauthorized"}
    huge = {**ORDER, "name": "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)}
    response = checked(spec, post(client, "/orders", huge, secret))
    assert response.status_code == 413 and errors(response) == {"(body)": "too_large"}
    assert orders() == 0


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/api/v1/nothing", 404, "not_found"),
    ("POST", "/api/v2/orders", 404, "not_found"),
    ("GET", "/api/", 404, "not_found"),
    ("GET", "/api/v1/orders", 405, "method_not_allowed"),
    ("DELETE", "/api/v1/customers", 405, "method_not_allowed"),
    ("POST", "/api/v1/orders?source=%00", 400, "bad_request"),
])
def test_unknown_paths_and_methods_answer_json(client, method, path, status, code):
    response = client.open(path, method=method, headers={"X-API-Key": new_key()})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert [error["code"] for error in response.get_json()["errors"]] == [code]


def test_the_rate_limit_counts_per_key(app, client, spec):
    app.config["API_RATE_LIMIT"] = "2/minute"
    first, second = new_key(), new_key()
    body = {"email": "r@shop.test", "subscribed": False}
    answers = [checked(spec, post(client, "/newsletter", body, first)) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert errors(answers[-1]) == {"": "rate_limited"}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    # Another key from the same address is not held back by the first one's count.
    assert checked(spec, post(client, "/newsletter", body, second)).status_code == 200


def test_success_answers_match_the_document(client, spec):
    secret = new_key()
    created = checked(spec, post(client, "/customers", {"email": "new@shop.test",
                                                       "first_name": None}, secret))
    assert created.status_code == 201
    changed = checked(spec, post(client, "/newsletter", {"email": "new@shop.test",
                                                        "subscribed": True}, secret))
    assert changed.status_code == 200 and changed.get_json()["subscribed"] is True
    order = checked(spec, post(client, "/orders", {**ORDER, "email": "new@shop.test",
                                                   "placed_at": "2026-11-20T10:00:00+01:00"},
                               secret))
    assert order.status_code == 201 and order.get_json()["guest"] is False
    assert order.get_json()["total"] == "29.95"


HOSTILE_BODIES = (
    "{}", "[]", '""', "0", "true", "NaN", '{"email": NaN}', '{"number": 1e400}',
    '{"email": "a@shop.test", "newsletter": null, "language": null}',
    '{"email": "' + "x" * 300 + '@shop.test"}',
    '{"email": "a@shop.test", "first_name": "\\u0000\\u202e"}',
    '{"number": "99999999999999999999", "email": "a@shop.test", "currency": "EUR", '
    '"lines": [{"name": "M", "quantity": 99999999999999999999, "unit_price": 1e30}]}',
    '{"number": "N", "email": "a@shop.test", "currency": "EUR", "placed_at": "99999-01-01", '
    '"lines": [{"name": "M", "quantity": 1, "unit_price": "-0"}], "total": "Infinity"}',
    '{"number": "N", "email": "a@shop.test", "currency": "EUR", "placed_at": "2026-13-45", '
    '"lines": [{"name": "M", "quantity": 1, "unit_price": "0"}], "shipping": "1e9"}',
    # Valid but for NUL characters, which PostgreSQL cannot store in text.
    '{"number": "N\\u0000", "email": "a@shop.test", "currency": "EUR", "name": "A\\u0000", '
    '"lines": [{"name": "M\\u0000", "sku": "\\u0000", "quantity": 1, "unit_price": "0"}], '
    '"billing_address": {"city": "\\u0000", "country": "DE"}}',
)


def test_no_api_route_answers_500_to_hostile_bodies(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # each answer as a real server gives it
    secret = new_key()
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "POST" not in rule.methods:
            continue
        for body in HOSTILE_BODIES:
            response = client.post(rule.rule, data=body, headers={
                "X-API-Key": secret, "Content-Type": "application/json"})
            if response.status_code >= 500 or response.mimetype != "application/json":
                failures.append(f"{response.status_code} {rule.rule} {body[:60]}")
    assert not failures, "\n".join(failures)
