"""Orders at scale: 1,000,000 customers and 5,000,000 orders, on SQLite and on PostgreSQL.

Prints the median and slowest server-side time (full request through the test client: view,
query and template) of the orders list's first page, a filter by status and date, one
customer's order list, an order by number, and searches: by e-mail, by number, and a word inside
a customer's name (rare, common, and one that no order holds), beside a plain primary-key lookup
measured in the same run, on each database, then both side by side. The SQLite file is kept in
bench/output and reused; PostgreSQL runs on the bench's own server (bench/_postgres.py).
BENCH_CUSTOMERS / BENCH_ORDERS scale it; BENCH_DATABASES=sqlite (or postgresql) runs one.
"""

import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text

from ._postgres import database, postgres_server

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
ORDERS = int(os.environ.get("BENCH_ORDERS", 5_000_000))
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
RUNS = 21
BATCH = 20_000
OUTPUT = Path(__file__).parent / "output"
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 5 * 365 * 24 * 60
FIRST_NAMES = ("Anna", "Łukasz", "Zofia", "Jürgen", "Chloé", "Oliver", "Małgorzata", "Lena",
               "François", "Amelia", "Paweł", "Sören")
# Family names of three syllables: some 9,000 of them, so that a name is rare, as in a register.
SYLLABLES = ("kow", "al", "ski", "wis", "niew", "ber", "gar", "mul", "ler", "dup", "ont", "lef",
             "hof", "man", "zie", "lin", "ka", "mor", "eau", "bon", "net")


def customer_name(number: int) -> tuple[str, str]:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    n = number * 7919 % len(SYLLABLES) ** 3
    parts = (n // len(SYLLABLES) ** 2, n // len(SYLLABLES) % len(SYLLABLES), n % len(SYLLABLES))
    return first, "".join(SYLLABLES[p] for p in parts).capitalize()


def customer_rows(first: int, last: int):
    for i in range(first, last):
        first_name, last_name = customer_name(i + 1)
        email = f"c{i + 1:07d}@bench.test"
        yield {"id": i + 1, "email": email, "email_key": email, "first_name": first_name,
               "last_name": last_name, "billing_country": "PL" if i % 4 else "DE"}


def order_rows(rng: random.Random, first: int, last: int):
    from shopadmin.text import fold

    statuses = ["completed"] * 6 + ["shipped", "processing", "new", "cancelled"]
    step = SPAN_MINUTES / ORDERS
    for i in range(first, last):
        guest = rng.random() < 0.15
        customer = None if guest else rng.randint(1, CUSTOMERS)
        email = f"g{i}@guest.test" if guest else f"c{customer:07d}@bench.test"
        name = "Gast Gość" if guest else " ".join(customer_name(customer))
        total = Decimal(rng.randint(500, 40000)) / 100
        yield {
            "id": i + 1, "number": f"B{i + 1:09d}", "customer_id": customer,
            "placed_at": START + timedelta(minutes=i * step),
            "status": rng.choice(statuses), "payment_status": "paid",
            "currency": "PLN" if i % 3 == 0 else "EUR", "subtotal": total,
            "shipping": Decimal(0), "total": total, "email": email, "email_key": email,
            "name": name, "search_text": f"{fold(name)} {email}", "phone": "", "country": "DE",
            "billing_address": {}, "shipping_address": {}, "anonymised": False}


def build(db, Customer, Order) -> None:
    """The customers and orders, with the indexes made after the rows (and, on SQLite, the
    trigram search table filled once at the end instead of row by row)."""
    rng = random.Random(6)
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    indexes = [index for index in Order.__table__.indexes
               if engine.dialect.name in index.info.get("dialects", (engine.dialect.name,))]
    with engine.begin() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA journal_mode=OFF")
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            trigger = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'order_search_insert'").scalar()
            connection.exec_driver_sql("DROP TRIGGER order_search_insert")
        for index in indexes:
            index.drop(connection)
        started = time.perf_counter()
        for first in range(0, CUSTOMERS, BATCH):
            rows = list(customer_rows(first, min(first + BATCH, CUSTOMERS)))
            if sqlite:
                connection.execute(insert(Customer), rows)
            else:
                _copy(connection, Customer.__table__, rows)
        print(f"  {CUSTOMERS:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        for first in range(0, ORDERS, BATCH):
            rows = list(order_rows(rng, first, min(first + BATCH, ORDERS)))
            if sqlite:
                connection.execute(insert(Order), rows)
            else:
                _copy(connection, Order.__table__, rows)
            if first and first % 1_000_000 == 0:
                print(f"  {first:,} orders ({time.perf_counter() - started:.0f} s)", flush=True)
        print(f"  {ORDERS:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        for index in indexes:
            index.create(connection)
        if sqlite:
            connection.exec_driver_sql(
                "INSERT INTO order_search (order_search) VALUES ('rebuild')")
            connection.exec_driver_sql(trigger)
        print(f"  indexes in {time.perf_counter() - started:.0f} s", flush=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _copy(connection, table, rows: list[dict]) -> None:
    """Rows into a PostgreSQL table through COPY (psycopg 3), every column of the table."""
    columns = [column.name for column in table.columns]
    defaults = {"version": 1, "approved": True, "confirmed": False, "newsletter": False,
                "customer_type": "private", "origin": "order", "shipping_differs": False}
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_value(row, column, defaults) for column in table.columns])
    cursor.close()


def _value(row: dict, column, defaults: dict):
    if column.name in row:
        value = row[column.name]
        return json.dumps(value) if isinstance(value, dict) else value
    if column.name in defaults:
        return defaults[column.name]
    if column.name.endswith("_at") and not column.nullable:
        return START
    return None if column.nullable else ""


def timed(call) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def measure(name: str, uri: str, instance: Path) -> list[tuple[str, float, float]]:
    from flask_migrate import upgrade

    from shopadmin import create_app
    from shopadmin.auth.models import Role, StaffUser
    from shopadmin.auth.services import create_staff_user
    from shopadmin.customers.models import Customer
    from shopadmin.extensions import db
    from shopadmin.orders.models import Order

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "SHOP_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost"], "HUEY_SQLITE_PATH": str(instance / "jobs.db"),
        "INSTANCE_PATH": str(instance)})
    print(f"--- {name}: {CUSTOMERS:,} customers, {ORDERS:,} orders", flush=True)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        built = db.session.scalar(select(func.count()).select_from(Order)) == ORDERS
        db.session.commit()
        if not built:
            build(db, Customer, Order)
        if db.session.scalar(select(StaffUser.id)) is None:
            create_staff_user("bench@shop.test", role=Role.ADMIN, name="Bench",
                              password="bench password 1")
        user = db.session.scalar(select(StaffUser))
        user.must_change_password = False
        db.session.commit()
        customer_id = db.session.scalar(select(Order.customer_id).where(
            Order.id >= ORDERS // 2, Order.customer_id.is_not(None)).limit(1))
        number = db.session.scalar(select(Order.number).where(Order.id == ORDERS // 3))
        last = db.session.scalar(select(func.max(Order.placed_at)))
        rare_name = customer_name(customer_id)[1].lower()
        common_name = customer_name(customer_id)[0].lower()
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
        "search a word in the e-mail": f"/orders/?q=c{customer_id:07d}",
        f"search a family name ({rare_name})": f"/orders/?q={rare_name}",
        f"search inside a name ({rare_name[2:-2]})": f"/orders/?q={rare_name[2:-2]}",
        f"search a common first name ({common_name})": f"/orders/?q={common_name}",
        "search a word no order holds": "/orders/?q=qqxzv",
    }
    page = client.get(urls["filter: status + 7 days"]).get_data(as_text=True)
    cursor = page.split("after=")[1].split('"')[0].split("&")[0] if "after=" in page else ""
    urls["filter: status + date, page 2"] = urls["filter: status + 7 days"] + f"&after={cursor}"
    rows = []
    for label, url in urls.items():
        assert client.get(url).status_code == 200, url
        median, slowest = timed(lambda url=url: client.get(url))
        rows.append((label, median, slowest))
        print(f"  {label:40} median {median:7.2f} ms   slowest {slowest:7.2f} ms", flush=True)
    with app.app_context():
        ids = [random.randint(1, ORDERS) for _ in range(RUNS)]
        times = []
        for order_id in ids:
            db.session.expunge_all()
            started = time.perf_counter()
            db.session.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": order_id}).one()
            times.append((time.perf_counter() - started) * 1000)
        rows.insert(0, ("baseline: primary-key lookup (SQL)", statistics.median(times),
                        max(times)))
        print(f"  {rows[0][0]:40} median {rows[0][1]:7.2f} ms   slowest {rows[0][2]:7.2f} ms")
        db.engine.dispose()
    return rows


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    instance = OUTPUT / "instance"
    instance.mkdir(exist_ok=True)
    os.environ["SHOPADMIN_INSTANCE_PATH"] = str(instance)
    figures = {}
    if "sqlite" in DATABASES:
        path = OUTPUT / f"orders-names-{CUSTOMERS}-{ORDERS}.sqlite"
        figures["SQLite"] = measure("SQLite", f"sqlite:///{path}", instance)
    if "postgresql" in DATABASES:
        with postgres_server() as server:
            if server:
                url = database(server, f"bench_orders_{CUSTOMERS}_{ORDERS}")
                figures["PostgreSQL"] = measure("PostgreSQL", url, instance)
    names = list(figures)
    print(f"\n{CUSTOMERS:,} customers, {ORDERS:,} orders: median / slowest ms")
    print(f"{'measure':<42}" + "".join(f" {name:>24}" for name in names))
    for index, (label, *_times) in enumerate(figures[names[0]]):
        print(f"{label:<42}" + "".join(
            f" {figures[name][index][1]:>11.1f} / {figures[name][index][2]:>8.1f}"
            for name in names))
    print("target: a word inside a name under 100 ms median on both databases")


if __name__ == "__main__":
    main()
