"""The storefront API: what the pydantic contract costs.

Prints the time to validate a three-line order body with the OrderIn model (lengths and codes
from the columns, ISO lists) beside the baseline of json.loads of the same bytes, and whole
POST /api/v1/orders requests (201, stored) beside requests refused by the validation (422),
all measured in the same run on SQLite.
"""

import json
import os
import statistics
import time

from sqlalchemy import delete

from shopadmin.extensions import db
from shopadmin.orders import schemas
from shopadmin.orders.models import Order
from shopadmin.orders.services import create_api_key

from .common import bench_app

VALIDATIONS = int(os.environ.get("BENCH_API_VALIDATIONS", 20_000))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", 300))


def order(number: int) -> dict:
    return {
        "number": f"B-{number}", "email": f"buyer{number}@example.com", "currency": "EUR",
        "name": "Zoé Łukasik", "shipping": "4.95", "language": "fr",
        "billing_address": {"address1": "Rue de la Paix 1", "postcode": "75002",
                            "city": "Paris", "country": "FR"},
        "lines": [{"sku": f"A-{line}", "name": "Mug", "quantity": 2, "unit_price": "12.50"}
                  for line in range(3)],
    }


def per_call_us(action, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    app = bench_app("api")
    body = json.dumps(order(0)).encode()
    with app.app_context():
        baseline = per_call_us(lambda: json.loads(body), VALIDATIONS)
        validated = per_call_us(lambda: schemas.OrderIn.model_validate_json(body), VALIDATIONS)
        print(f"validate one order body: {validated:.1f} us (json.loads alone: {baseline:.1f} us, "
              f"{validated / baseline:.1f}x)")

        db.session.execute(delete(Order))
        _, secret = create_api_key("Bench", None)
        db.session.commit()
    client = app.test_client()
    headers = {"X-API-Key": secret}
    stored, refused = [], []
    for number in range(REQUESTS):
        started = time.perf_counter()
        response = client.post("/api/v1/orders", json=order(number + 1), headers=headers)
        stored.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.get_data(as_text=True)
        bad = {**order(number + 1), "number": "N" * 41}
        started = time.perf_counter()
        response = client.post("/api/v1/orders", json=bad, headers=headers)
        refused.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 422
    print(f"POST /api/v1/orders, {REQUESTS} requests: stored (201) median "
          f"{statistics.median(stored):.2f} ms; refused by validation (422) median "
          f"{statistics.median(refused):.2f} ms")
