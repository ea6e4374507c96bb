"""Orders at scale: 1,000,000 customers and 5,000,000 orders in an SQLite file.

Prints the median and slowest server-side time (full request through the test client: view,
query and template) of the orders list's first page, a filter by status and date, one
customer's order list, and an order by number, beside a plain primary-key lookup.
BENCH_CUSTOMERS / BENCH_ORDERS scale it; the file is kept in bench/output and reused."""

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
ORDERS = int(os.environ.get("BENCH_ORDERS", 5_000_000))
RUNS = 21
BATCH = 20_000
OUTPUT = Path(__file__).parent / "output"
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 5 * 365 * 24 * 60


def build(db, Customer, Order) -> None:
    rng = random.Random(6)
    engine = db.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=OFF")
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
    indexes = list(Order.__table__.indexes)
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
        started = time.perf_counter()
        for first in range(0, CUSTOMERS, BATCH):
            connection.execute(insert(Customer), [{
                "id": i + 1, "email": f"c{i + 1:07d}@bench.test",
                "email_key": f"c{i + 1:07d}@bench.test", "first_name": "Anna",
                "last_name": f"Kowalska {i + 1}", "billing_country": "PL" if i % 4 else "DE",
            } for i in range(first, min(first + BATCH, CUSTOMERS))])
        print(f"  {CUSTOMERS:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        statuses = ["completed"] * 6 + ["shipped", "processing", "new", "cancelled"]
        step = SPAN_MINUTES / ORDERS
        for first in range(0, ORDERS, BATCH):
            rows = []
            for i in range(first, min(first + BATCH, ORDERS)):
                guest = rng.random() < 0.15
                customer = None if guest else rng.randint(1, CUSTOMERS)
                email = f"g{i}@guest.test" if guest else f"c{customer:07d}@bench.test"
                total = Decimal(rng.randint(500, 40000)) / 100
                rows.append({
                    "id": i + 1, "number": f"B{i + 1:09d}", "customer_id": customer,
                    "placed_at": START + timedelta(minutes=i * step),
                    "status": rng.choice(statuses), "payment_status": "paid",
                    "currency": "PLN" if i % 3 == 0 else "EUR", "subtotal": total,
                    "shipping": Decimal(0), "total": total, "email": email, "email_key": email,
                    "name": "Gast" if guest else f"Anna Kowalska {customer}",
                    "search_text": email, "phone": "", "country": "DE",
                    "billing_address": {}, "shipping_address": {}, "anonymised": False})
            connection.execute(insert(Order), rows)
            if first and first % 1_000_000 == 0:
                print(f"  {first:,} orders ({time.perf_counter() - started:.0f} s)", flush=True)
        print(f"  {ORDERS:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        for index in indexes:
            index.create(connection)
        connection.exec_driver_sql("ANALYZE")
        print(f"  indexes in {time.perf_counter() - started:.0f} s", flush=True)


def timed(call) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"orders-{CUSTOMERS}-{ORDERS}.sqlite"
    instance = OUTPUT / "instance"
    instance.mkdir(exist_ok=True)
    os.environ["SHOPADMIN_INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from shopadmin import create_app
    from shopadmin.auth.models import Role
    from shopadmin.auth.services import create_staff_user
    from shopadmin.customers.models import Customer
    from shopadmin.extensions import db
    from shopadmin.orders.models import Order

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "SHOP_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost"], "HUEY_SQLITE_PATH": str(instance / "jobs.db"),
        "INSTANCE_PATH": str(instance)})
    print(f"orders bench: {CUSTOMERS:,} customers, {ORDERS:,} orders in {path.name}")
    with app.app_context():
        fresh = not path.exists()
        upgrade()
        if fresh or db.session.scalar(select(func.count()).select_from(Order)) != ORDERS:
            build(db, Customer, Order)
            create_staff_user("bench@shop.test", role=Role.ADMIN, name="Bench",
                              password="bench password 1")
            db.session.commit()
        customer_id = db.session.scalar(select(Order.customer_id).where(
            Order.id >= ORDERS // 2, Order.customer_id.is_not(None)).limit(1))
        number = db.session.scalar(select(Order.number).where(Order.id == ORDERS // 3))
        last = db.session.scalar(select(func.max(Order.placed_at)))
    with app.app_context():
        from shopadmin.auth.models import StaffUser

        user = db.session.scalar(select(StaffUser))
        user.must_change_password = False
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@shop.test",
                                           "password": "bench password 1"})
    assert response.status_code == 302, "bench sign-in failed"
    day = (last - timedelta(days=30)).date().isoformat()
    urls = {
        "orders list, first page": "/orders/",
        "filter: status + 7 days": f"/orders/?status=cancelled&date_from={day}"
                                   f"&date_to={(last - timedelta(days=23)).date().isoformat()}",
        "filter: status + date, page 2": None,
        "one customer's orders": f"/customers/{customer_id}/orders",
        "search by e-mail": f"/orders/?q=c{customer_id:07d}@bench.test",
        "an order by number": f"/orders/{number}",
        "search by number": f"/orders/?q={number}",
        "search by text (LIKE, no index)": f"/orders/?q=c{customer_id:07d}",
    }
    page = client.get(urls["filter: status + 7 days"]).get_data(as_text=True)
    cursor = page.split("after=")[1].split('"')[0].split("&")[0] if "after=" in page else ""
    urls["filter: status + date, page 2"] = urls["filter: status + 7 days"] + f"&after={cursor}"
    for label, url in urls.items():
        assert client.get(url).status_code == 200, url
        median, slowest = timed(lambda url=url: client.get(url))
        print(f"  {label:32} median {median:7.2f} ms   slowest {slowest:7.2f} ms")
    with app.app_context():
        ids = [random.randint(1, ORDERS) for _ in range(RUNS)]
        times = []
        for order_id in ids:
            db.session.expunge_all()
            started = time.perf_counter()
            db.session.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": order_id}).one()
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {'primary-key lookup (SQL only)':32} median {statistics.median(times):7.2f} ms"
              f"   slowest {max(times):7.2f} ms")


if __name__ == "__main__":
    main()
