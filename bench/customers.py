"""The customer list at 1,000,000 customers: server-side time of the list's requests.

Builds (once; reused by later runs) a SQLite database of 1,000,000 demo customers with
`demo-data`, and the same on a PostgreSQL server the bench starts itself on loopback (Debian's
package; skipped when it is not installed), then times whole requests through the app (query,
count and template) on each, beside a plain primary-key lookup measured in the same run, and
prints the two databases' figures side by side.
"""

import os
import time

from sqlalchemy import func, select, text

from shopadmin.auth.models import Role, StaffUser
from shopadmin.auth.services import create_staff_user
from shopadmin.customers.demo import generate_customers
from shopadmin.customers.models import Customer, CustomerGroup
from shopadmin.extensions import db

from ._postgres import database, postgres_server
from .common import bench_app, report, report_side_by_side, timings

COUNT = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
PASSWORD = "bench password 2026"
BENCH_USER = "bench@shop.test"


def build(app) -> None:
    with app.app_context():
        have = db.session.scalar(select(func.count(Customer.id)))
        if have >= COUNT:
            print(f"reusing {have:,} customers")
            return
        started = time.monotonic()
        generate_customers(COUNT - have)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        elapsed = time.monotonic() - started
        print(f"built {COUNT - have:,} customers in {elapsed:.0f} s "
              f"({(COUNT - have) / elapsed:,.0f}/s)")


def main() -> None:
    figures = {"SQLite": measure(bench_app("customers"))}
    with postgres_server() as server:
        if server:
            url = database(server, "bench_customers")
            figures["PostgreSQL"] = measure(bench_app("customers-postgres",
                                                      SQLALCHEMY_DATABASE_URI=url))
    if len(figures) > 1:
        print(f"\n{COUNT:,} customers: SQLite and PostgreSQL side by side")
        report_side_by_side(figures, median_target=50, slowest_target=150)


def measure(app):
    """Build the customers when needed, time the list's requests; returns (baseline, rows)."""
    print(f"--- {app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]}", flush=True)
    build(app)
    with app.app_context():
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == BENCH_USER)) is None:
            create_staff_user(BENCH_USER, role=Role.ADMIN, password=PASSWORD)
            db.session.commit()
        group_id = db.session.scalar(select(CustomerGroup.id).order_by(CustomerGroup.id))
        sample = db.session.get(Customer, COUNT // 2)
        email_prefix = sample.email[:12]
        pages = (COUNT + 49) // 50
        ids = iter(range(1, 10_000_000, 7919))

        def primary_key_lookup():
            db.session.execute(select(Customer.__table__).where(
                Customer.id == next(ids) % COUNT + 1)).first()

        baseline = timings(primary_key_lookup, repeat=50)
    client = app.test_client()
    client.post("/login", data={"email": BENCH_USER, "password": PASSWORD})

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return run

    cases = [
        ("first page, unfiltered", "/customers/"),
        ("last page, unfiltered", f"/customers/?page={pages}"),
        ("search by e-mail prefix", f"/customers/?q={email_prefix}"),
        ("search by last name", "/customers/?q=wisniewska"),
        ("search by company word", "/customers/?q=hurtownia"),
        ("search by postcode", "/customers/?q=90-001"),
        ("filter group + newsletter", f"/customers/?group={group_id}&newsletter=yes"),
        ("sort by modified", "/customers/?sort=-modified"),
    ]
    rows = [(label, timings(get(url))) for label, url in cases]
    print(f"{COUNT:,} customers; whole requests through the app (query, count, template)")
    report(rows, baseline, median_target=50, slowest_target=150)
    with app.app_context():
        db.engine.dispose()
    return baseline, rows


if __name__ == "__main__":
    main()
