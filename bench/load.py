"""The load bench (make bench BENCH=load): the scale-out configuration under staff load.

Starts PostgreSQL and Redis of its own on loopback (Debian's packages), copies the customers
bench's database of 1,000,000 customers (built once by bench.customers' build, kept), and runs
gunicorn with 4 worker processes (gthread, 4 threads each: the README's command) and one job
worker (`flask worker`) on them. Then, each for BENCH_SECONDS (60):
  ceiling  50 clients asking the same gunicorn for a static file (Flask's static route): what
           the server, the machine and the load generator give at most;
  load     50 simulated staff sessions, each signed in with its own session and CSRF token,
           searching, filtering, opening customers and saving edits (each session its own
           customers), while the worker imports 200,000 new customers;
and prints requests per second, p50/p95/p99 per kind of request, errors (target: none), the
import's progress, and checks that every save the server acknowledged is in the database.
The load generator is httpx on asyncio in this process, on loopback only.
BENCH_LOAD_STATEMENTS=1 loads pg_stat_statements into the bench's server and prints, after the
load window, the statements that took the most of the server's time in it (where the
database's share of a staff request goes).

BENCH_CUSTOMERS=20000 BENCH_SECONDS=10 python -m bench load   for a quick look.
"""

import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._postgres import _free_port, database, fresh_database, postgres_server, server_cpu
from ._redis import redis_server
from ._staff import Tally, run_staff, run_static
from .common import OUTPUT, tree_cpu

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
SESSIONS = 50
WEB_WORKERS, THREADS = 4, 4
IMPORT_ROWS = 200_000
STATEMENTS = os.environ.get("BENCH_LOAD_STATEMENTS", "") not in ("", "0")
PASSWORD = "load bench password 2026"
ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from . import transfer_import
    from .customers import COUNT

    path = OUTPUT / f"customers-{IMPORT_ROWS}-warnings.csv"
    if not path.exists():
        transfer_import.generate(path, IMPORT_ROWS)
    preload = "-c shared_preload_libraries=pg_stat_statements" if STATEMENTS else ""
    with postgres_server(preload) as server, redis_server() as redis_url, \
            tempfile.TemporaryDirectory(dir=OUTPUT, prefix="load-") as scratch:
        if server is None or redis_url is None:
            return 1
        url = prepare_database(server, COUNT)
        instance = Path(scratch)
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url,
               "SHOPADMIN_INSTANCE_PATH": str(instance), "SECRET_KEY": "load bench secret",
               "SHOPADMIN_LOGIN_LIMIT_ADDRESS": "1000/hour"}
        staff = setup(url, redis_url, instance)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with running(web_command(port), env, instance / "web.log") as web:
            wait_until_up(base)
            print(f"{COUNT:,} customers; gunicorn {WEB_WORKERS} workers x {THREADS} threads; "
                  f"{SESSIONS} sessions for {SECONDS:.0f} s each run; {os.cpu_count()} cores",
                  flush=True)
            ceiling = Tally()
            run_static(base, "/static/css/shopadmin.css", SESSIONS, SECONDS, ceiling)
            import_id = queue_import(url, redis_url, instance, path)
            with running([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                          "--workers", "1"], env, instance / "worker.log") as worker:
                load = Tally()
                cpu = Cpu(web.pid, worker.pid)
                statements = Statements(url) if STATEMENTS else None

                def window_opens() -> None:
                    if statements is not None:
                        statements.reset()
                    cpu.start()

                elapsed = run_staff(base, staff, PASSWORD, COUNT, SECONDS, load, window_opens)
                cpu.stop()
                if statements is not None:
                    statements.report()
                progress = import_progress(url, import_id)
        print_report(ceiling, load, elapsed, progress)
        if load.errors or ceiling.errors:
            print_errors(instance / "web.log")
        cpu.report(elapsed, sum(len(times) for times in load.times.values()))
        lost = check_saves(url, load.saved)
        fresh_database(server, "bench_load", keep=False)  # (a copy of 1,000,000 customers)
    ok = not load.errors and not ceiling.errors and not lost
    print(f"errors: {sum(load.errors.values())}, acknowledged saves missing: {lost} "
          f"(target: none): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


class Cpu:
    """CPU seconds spent in the measured window by the web processes, the job worker (with its
    reading processes), the database server and the load generator (this process): on a
    machine that others use too, what a staff request costs whatever the wall times say."""

    def __init__(self, web: int, worker: int):
        self.web, self.worker = web, worker
        self.started: tuple[float, ...] = ()
        self.spent: tuple[float, ...] = ()

    def _now(self) -> tuple[float, ...]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return (tree_cpu(self.web), tree_cpu(self.worker), server_cpu() or 0.0,
                own.ru_utime + own.ru_stime, time.monotonic())

    def start(self) -> None:
        self.started = self._now()

    def stop(self) -> None:
        self.spent = tuple(b - a for a, b in zip(self.started, self._now(), strict=True))

    def report(self, elapsed: float, requests: int) -> None:
        web, worker, server, generator, _wall = self.spent
        print(f"CPU in the window ({elapsed:.0f} s on {os.cpu_count()} cores): web {web:.1f} s, "
              f"job worker {worker:.1f} s, PostgreSQL {server:.1f} s (both sides' backends), "
              f"load generator {generator:.1f} s; per staff request: web "
              f"{1000 * web / max(requests, 1):.0f} ms")


class Statements:
    """pg_stat_statements over the load window: the statements that took the most of the
    server's time, with their calls and mean (all databases: the web's and the worker's)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine, text

        self.engine, self.text = create_engine(url, isolation_level="AUTOCOMMIT"), text
        with self.engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))

    def reset(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(self.text("SELECT pg_stat_statements_reset()"))

    def report(self, most: int = 15) -> None:
        with self.engine.connect() as connection:
            total = connection.execute(self.text(
                "SELECT sum(total_exec_time) FROM pg_stat_statements")).scalar() or 1.0
            rows = connection.execute(self.text(
                "SELECT total_exec_time, calls, mean_exec_time, rows, "
                "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
                "ORDER BY total_exec_time DESC LIMIT :most"), {"most": most}).all()
        self.engine.dispose()
        print(f"the server's statements in the window: {total / 1000:.1f} s in all; the "
              f"{most} that took the most:")
        for spent, calls, mean, returned, query in rows:
            if query.startswith("SELECT ") and " FROM " in query:  # (the columns left out)
                columns, rest = query[7:].split(" FROM ", 1)
                query = f"SELECT {columns[:40]}… FROM {rest}" if len(columns) > 60 else query
            print(f"  {spent / 1000:7.1f} s {100 * spent / total:5.1f} % {calls:>7,} calls "
                  f"{mean:8.2f} ms {returned:>10,} rows  {query[:240]}")


def prepare_database(server: str, count: int) -> str:
    """A fresh copy of the customers bench's PostgreSQL database (built there when missing)."""
    from shopadmin.customers.demo import sync_id_sequence
    from shopadmin.extensions import db

    from .common import bench_app
    from .customers import build

    app = bench_app("customers-postgres",
                    SQLALCHEMY_DATABASE_URI=database(server, "bench_customers"))
    build(app)
    with app.app_context():
        db.engine.dispose()  # (a template database must have no connections)
    fresh_database(server, "bench_load", keep=False)
    started = time.monotonic()
    url = fresh_database(server, "bench_load", template="bench_customers")
    print(f"copied the {count:,} customers' database in {time.monotonic() - started:.0f} s")
    app = bench_app("customers-postgres", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        sync_id_sequence()  # (a database built before demo-data did this itself)
        db.session.commit()
        db.engine.dispose()
    return url


def setup(url: str, redis_url: str, instance: Path) -> list[tuple[str, list[int]]]:
    """The staff accounts, each with the customers its session edits (none shared)."""
    from sqlalchemy import select

    from shopadmin import create_app
    from shopadmin.auth.models import Role, StaffUser
    from shopadmin.auth.services import create_staff_user
    from shopadmin.customers.models import Customer
    from shopadmin.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url,
                      "INSTANCE_PATH": str(instance)})
    staff = []
    with app.app_context():
        ids = db.session.scalars(select(Customer.id).where(Customer.deleted_at.is_(None))
                                 .order_by(Customer.id).limit(SESSIONS * 20)).all()
        for n in range(SESSIONS):
            email = f"load{n}@shop.test"
            if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is None:
                create_staff_user(email, role=Role.STAFF, password=PASSWORD)
            staff.append((email, ids[n::SESSIONS]))
        db.session.commit()
        db.engine.dispose()
    return staff


def queue_import(url: str, redis_url: str, instance: Path, path: Path) -> int:
    """Upload the file and queue its apply on the Redis queue, as the import pages do after
    the preview (which is not what this bench measures)."""
    from shopadmin import create_app
    from shopadmin.extensions import db
    from shopadmin.imports import services
    from shopadmin.imports.models import ImportStatus, ImportTask
    from shopadmin.imports.plan import ImportOptions
    from shopadmin.imports.tasks import run_import_task

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url,
                      "INSTANCE_PATH": str(instance)})
    with app.app_context(), path.open("rb") as stream:
        job = services.start_import(stream, path.name)
        services.save_mapping(job, job.mapping)
        services.save_options(job, ImportOptions())
        job.status = ImportStatus.PROCESSING
        services._queue(job, ImportTask.APPLY)
        db.session.commit()
        run_import_task(job.id)
        db.engine.dispose()
        return job.id


def import_progress(url: str, import_id: int) -> tuple[int, int, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        done, total, status = connection.execute(text(
            "SELECT rows_done, rows_total, status FROM import_jobs WHERE id = :id"),
            {"id": import_id}).one()
    engine.dispose()
    return done, total, status


def check_saves(url: str, saved: dict[int, str]) -> int:
    """How many acknowledged saves the database does not hold."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        stored = dict(connection.execute(
            text("SELECT id, notes FROM customers WHERE id IN :ids")
            .bindparams(bindparam("ids", expanding=True)), {"ids": list(saved) or [0]}).all())
    engine.dispose()
    lost = sum(stored.get(customer_id) != notes for customer_id, notes in saved.items())
    print(f"acknowledged saves: {len(saved):,} customers' last saves checked in the database, "
          f"{len(saved) - lost:,} there, {lost} missing")
    return lost


def web_command(port: int) -> list[str]:
    from shopadmin.access_log import gunicorn_command

    return gunicorn_command(sys.executable, f"127.0.0.1:{port}", THREADS, WEB_WORKERS)


class running:
    """A child process for the length of a with block, ended by SIGTERM (then SIGKILL)."""

    def __init__(self, command: list[str], env: dict, log: Path):
        self.command, self.env, self.log = command, env, log

    def __enter__(self):
        self.handle = self.log.open("w")
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                        stdout=self.handle, stderr=subprocess.STDOUT)
        return self.process

    def __exit__(self, *_exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.handle.close()


def wait_until_up(base: str) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not come up")


def print_errors(log: Path, most: int = 2) -> None:
    """The first tracebacks in the web processes' log (the run's folder goes with the run),
    and gunicorn's own errors (a worker timed out, killed, exited)."""
    lines = log.read_text(errors="replace").splitlines()
    for line in [line for line in lines if "[CRITICAL]" in line or "[ERROR]" in line][:5]:
        print(line)
    starts = [n for n, line in enumerate(lines) if line.startswith("Traceback")][:most]
    for start in starts:
        end = next((n for n in range(start + 1, len(lines))
                    if lines[n] and not lines[n].startswith((" ", "Traceback", "During",
                                                              "The above"))), len(lines))
        print("\n".join(lines[max(start - 2, 0):end + 1]))


def _percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_report(ceiling: Tally, load: Tally, elapsed: float, progress) -> None:
    print(f"{'run / request kind':<24}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'errors':>8}")
    for name, tally in (("ceiling (static file)", ceiling), ("staff load", load)):
        total = sum(len(times) for times in tally.times.values())
        every = [t for times in tally.times.values() for t in times]
        errors = sum(tally.errors.values())
        print(f"{name:<24}{total:>9,}{total / SECONDS:>8.0f}"
              + (f"{statistics.median(every):>9.1f}{_percentile(every, .95):>9.1f}"
                 f"{_percentile(every, .99):>9.1f}" if every else " " * 27) + f"{errors:>8}")
        if name == "staff load":
            for kind in ("search", "filter", "open", "save"):
                times = tally.times.get(kind) or [0.0]
                print(f"  {kind:<22}{len(tally.times.get(kind, [])):>9,}"
                      f"{len(tally.times.get(kind, [])) / SECONDS:>8.0f}"
                      f"{statistics.median(times):>9.1f}{_percentile(times, .95):>9.1f}"
                      f"{_percentile(times, .99):>9.1f}{tally.errors.get(kind, 0):>8}")
        for sample in tally.samples:
            print(f"    {sample}")
    done, total, status = progress
    print(f"import in the worker meanwhile: {done:,} of {total:,} rows in {elapsed:.0f} s "
          f"({done / elapsed:,.0f} rows/s), {status}")


if __name__ == "__main__":
    sys.exit(main())
