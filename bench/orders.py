"""Orders at scale: 1,000,000 customers and 5,000,000 orders, on SQLite and on PostgreSQL.

Prints the median and slowest server-side time (full request through the test client: view,
query and template) of the orders list's first page, a filter by status and date, one
customer's order list, an order by number, and searches: by e-mail, by number, and a word inside
a customer's name (rare, part of one, common, a name and part of another, and one that no order
holds), with the mean CPU of this process and of the PostgreSQL server a request, beside a
primary-key lookup and the first page as one raw query measured in the same run, on each
database, then both side by side. The data (bench/_orders_data.py) is kept in bench/output and
reused: SQLite's file, and PostgreSQL's on the bench's own server (bench/_postgres.py).
BENCH_CUSTOMERS / BENCH_ORDERS scale it; BENCH_DATABASES=sqlite (or postgresql) runs one;
BENCH_RUNS requests of each (20). BENCH_ORDERS_BEFORE=1 alternates PostgreSQL's figures with a
copy of its database at the revision before the suffix index; BENCH_ORDERS_EXPLAIN=1 prints
the searches' plans.
"""

import os
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from ._orders_data import CUSTOMERS, ORDERS, build, customer_name
from ._postgres import database, fresh_database, postgres_server, server_cpu_ms

DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
RUNS = int(os.environ.get("BENCH_RUNS", 20))
ROUNDS = 2  # each database's requests in two rounds (with BENCH_ORDERS_BEFORE: alternated)
# BENCH_ORDERS_BEFORE=1: PostgreSQL's figures beside those of a copy of its database at the
# revision before the suffix index (pg_trgm's trigram index), with the search as it was then.
BEFORE = os.environ.get("BENCH_ORDERS_BEFORE", "") == "1"
BEFORE_REVISION = "e3b7d2a9c4f1"
EXPLAIN = os.environ.get("BENCH_ORDERS_EXPLAIN", "") == "1"  # print the searches' plans
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
OUTPUT = Path(__file__).parent / "output"




def timed(call, runs: int, server: bool) -> tuple[list[float], float, float]:
    """Wall-clock ms of each run, and the mean CPU ms a run of this process (on SQLite the
    query's too) and of the PostgreSQL server: the machine is shared, and a request that
    waits for a core is stretched."""
    times = []
    cpu = server_cpu_ms if server else float
    started_cpu, started_server = time.process_time(), cpu()
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return (times, (time.process_time() - started_cpu) * 1000 / runs,
            (cpu() - started_server) / runs)


def _containing_before(folded: str):
    """The orders' search on PostgreSQL before migration c6f2a8d4e1b9, for the comparison: a
    LIKE, which pg_trgm's GIN index (ix_orders_search_text_trgm) served."""
    from shopadmin.orders.models import Order

    return Order.search_text.contains(folded, autoescape=True)


def make_app(uri: str, instance: Path):
    from shopadmin import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "SHOP_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost"], "HUEY_SQLITE_PATH": str(instance / "jobs.db"),
        "INSTANCE_PATH": str(instance)})


def prepare(app, migrate: bool = True) -> dict:
    """Migrated (unless told not to), built when empty, a staff member to sign in; returns
    what the URLs need."""
    from flask_migrate import upgrade

    from shopadmin.auth.models import Role, StaffUser
    from shopadmin.auth.services import create_staff_user
    from shopadmin.customers.models import Customer
    from shopadmin.extensions import db
    from shopadmin.orders.models import Order

    with app.app_context():
        if migrate:
            started = time.perf_counter()
            upgrade(directory=str(MIGRATIONS))
            print(f"  migrations: {time.perf_counter() - started:.1f} s", flush=True)
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
        return {"customer_id": customer_id,
                "number": db.session.scalar(select(Order.number).where(Order.id == ORDERS // 3)),
                "last": db.session.scalar(select(func.max(Order.placed_at)))}


def signed_in(app):
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@shop.test",
                                           "password": "bench password 1"})
    assert response.status_code == 302, "bench sign-in failed"
    return client


def bench_urls(client, known: dict) -> dict[str, str]:
    customer_id, number, last = known["customer_id"], known["number"], known["last"]
    rare_name = customer_name(customer_id)[1].lower()
    common_name = customer_name(customer_id)[0].lower()
    day = (last - timedelta(days=30)).date().isoformat()
    urls = {
        "orders list, first page": "/orders/",
        "filter: status + 7 days": f"/orders/?status=cancelled&date_from={day}"
                                   f"&date_to={(last - timedelta(days=23)).date().isoformat()}",
        "filter: status + date, page 2": "",
        "one customer's orders": f"/customers/{customer_id}/orders",
        "search by e-mail": f"/orders/?q=c{customer_id:07d}@bench.test",
        "an order by number": f"/orders/{number}",
        "search by number": f"/orders/?q={number}",
        "search a word in the e-mail": f"/orders/?q=c{customer_id:07d}",
        f"search a family name ({rare_name})": f"/orders/?q={rare_name}",
        f"search inside a name ({rare_name[2:-2]})": f"/orders/?q={rare_name[2:-2]}",
        f"search a common first name ({common_name})": f"/orders/?q={common_name}",
        "search a name and part of another": f"/orders/?q={common_name}+{rare_name[:5]}",
        "search a word no order holds": "/orders/?q=qqxzv",
    }
    page = client.get(urls["filter: status + 7 days"]).get_data(as_text=True)
    cursor = page.split("after=")[1].split('"')[0].split("&")[0] if "after=" in page else ""
    urls["filter: status + date, page 2"] = urls["filter: status + 7 days"] + f"&after={cursor}"
    return urls


def sql_baselines(app, server: bool) -> list[tuple[str, list[float], float, float]]:
    """A primary-key lookup and the first page as one raw query, timed in SQL."""
    from shopadmin.extensions import db

    rows = []
    with app.app_context():
        ids = iter([random.randint(1, ORDERS) for _ in range(RUNS + 1)])
        for label, statement, params in (
                ("baseline: primary-key lookup (SQL)", "SELECT * FROM orders WHERE id = :id",
                 lambda: {"id": next(ids)}),
                ("baseline: raw page query (SQL)", "SELECT * FROM orders ORDER BY placed_at "
                 "DESC, id DESC LIMIT 51", dict)):
            def run(statement=statement, params=params):
                db.session.expunge_all()
                db.session.execute(text(statement), params()).all()
            run()
            rows.append((label, *timed(run, RUNS // ROUNDS, server)))
        db.session.remove()
    return rows


def explain(app, urls: dict[str, str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each search's page query, as the list runs it."""
    from urllib.parse import parse_qs, urlsplit

    from shopadmin.extensions import db
    from shopadmin.orders.models import Order
    from shopadmin.orders.services import filter_orders, order_query

    with app.app_context():
        for label, url in urls.items():
            if "?q=" not in url:
                continue
            args = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
            statement = filter_orders(select(Order), order_query(args)).order_by(
                Order.placed_at.desc(), Order.id.desc()).limit(51)
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            # The driver's paramstyle doubles a literal's %: undone for the SQL as it runs.
            sql = str(compiled).replace("%%", "%")
            plan = db.session.scalars(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).all()
            print(f"  EXPLAIN {label}:\n    " + "\n    ".join(plan), flush=True)
        db.session.remove()


def measure(name: str, uri: str, instance: Path, before_uri: str = "") -> list[tuple]:
    """Every URL timed on the database at `uri`; with `before_uri` (PostgreSQL), the same on
    that copy at the revision before c6f2a8d4e1b9 with the search as it was, alternated:
    after, before, after, before."""
    from shopadmin.orders import services

    print(f"--- {name}: {CUSTOMERS:,} customers, {ORDERS:,} orders", flush=True)
    apps = {"": make_app(uri, instance)}
    if before_uri:
        apps["before: "] = make_app(before_uri, instance)
    known = {variant: prepare(app, migrate=not variant) for variant, app in apps.items()}
    clients = {variant: signed_in(app) for variant, app in apps.items()}
    urls = bench_urls(clients[""], known[""])
    server = uri.startswith("postgresql")
    if EXPLAIN:
        for variant, app in apps.items():
            print(f"  {variant or 'after: '}plans", flush=True)
            with _search_of(variant, services):
                explain(app, urls)
    results: dict[str, list] = {}
    for round_ in range(ROUNDS):
        for variant, app in apps.items():
            results.setdefault(f"{variant}baseline", []).append(sql_baselines(app, server))
            client = clients[variant]
            with _search_of(variant, services):
                for label, url in urls.items():
                    if round_ == 0:
                        assert client.get(url).status_code == 200, url
                    results.setdefault(variant + label, []).append(
                        timed(lambda url=url, client=client: client.get(url), RUNS // ROUNDS,
                              server))
    rows = []
    for variant in apps:
        for label, *figures in _merged(results[f"{variant}baseline"]):
            rows.append((variant + label, *figures))
        for label in urls:
            rows.append(_merged_one(variant + label, results[variant + label]))
    for row in rows:
        print(f"  {row[0]:58} median {row[1]:8.2f} ms   slowest {row[2]:8.2f} ms   "
              f"CPU {row[3]:6.1f} ms + server {row[4]:6.1f} ms", flush=True)
    for app in apps.values():
        with app.app_context():
            from shopadmin.extensions import db
            db.engine.dispose()
    return rows


def _search_of(variant: str, services):
    """The search as it was for the `before` copy, today's otherwise."""
    from contextlib import nullcontext
    from unittest.mock import patch

    return patch.object(services, "_containing", _containing_before) if variant else nullcontext()


def _merged_one(label: str, runs: list) -> tuple:
    times = [t for run in runs for t in run[0]]
    return (label, statistics.median(times), max(times),
            statistics.mean(run[1] for run in runs), statistics.mean(run[2] for run in runs))


def _merged(rounds: list[list]) -> list[tuple]:
    return [_merged_one(rows[0][0], [row[1:] for row in rows])
            for rows in zip(*rounds, strict=True)]


def _before_copy(server: str, name: str) -> str:
    """The database `name`_before: a copy of `name` at revision e3b7d2a9c4f1 (pg_trgm's index),
    made from `name` itself (downgraded when already at head: some minutes at 5,000,000)."""
    from sqlalchemy import create_engine

    before = f"{name}_before"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": before})
    admin.dispose()
    url = database(server, name)
    if exists:
        return url.rsplit("/", 1)[0] + "/" + before
    engine = create_engine(url)
    with engine.connect() as connection:
        built = connection.scalar(text("SELECT to_regclass('orders') IS NOT NULL"))
    engine.dispose()
    if not built:
        print("  no comparison: build the database first (a run without BENCH_ORDERS_BEFORE)")
        return ""
    copy = fresh_database(server, before, template=name)
    engine = create_engine(copy)
    with engine.connect() as connection:
        revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    if revision != BEFORE_REVISION:
        from flask_migrate import downgrade

        app = make_app(copy, OUTPUT / "instance")
        with app.app_context():
            started = time.perf_counter()
            downgrade(directory=str(MIGRATIONS), revision=BEFORE_REVISION)
            print(f"  the copy downgraded to {BEFORE_REVISION} in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    return copy


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
                name = f"bench_orders_{CUSTOMERS}_{ORDERS}"
                before = _before_copy(server, name) if BEFORE else ""
                figures["PostgreSQL"] = measure("PostgreSQL", database(server, name), instance,
                                                before)
    names = list(figures)
    print(f"\n{CUSTOMERS:,} customers, {ORDERS:,} orders: median / slowest ms / CPU ms "
          "(this process + the PostgreSQL server, a request)")
    print(f"{'measure':<58}" + "".join(f" {name:>38}" for name in names))
    for index, (label, *_times) in enumerate(figures[names[0]]):
        print(f"{label:<58}" + "".join(
            f" {figures[name][index][1]:>9.1f} / {figures[name][index][2]:>8.1f} / "
            f"{figures[name][index][3]:>6.1f} + {figures[name][index][4]:>6.1f}"
            if index < len(figures[name]) else "" for name in names))
    print("target: a word inside a name under 100 ms median on both databases")


if __name__ == "__main__":
    main()
