"""The customer list at 1,000,000 customers: server-side time of every request a user can make.

Builds (once; reused by later runs) a SQLite database of 1,000,000 demo customers with
`demo-data` (and an import whose rows left warnings on 20,000 of them), and the same on a
PostgreSQL server the bench starts itself on loopback (Debian's package; skipped when it is not
installed). It then times whole requests through the app (query, count and template) on each:
first, middle and last pages, the middle page right after an edit, an insert and a delete,
every sort at a deep page, searches (one and two letters, a city word, an e-mail prefix, a last
name, a company word, a postcode, sorted by other columns, a letter or two deep or in an order
their matches cluster far down), every filter, beside two raw
baselines measured in the same run: a primary-key lookup and the bare indexed query of a page
(50 ids from the name index), and prints the two databases' figures side by side. Each
request is run once unmeasured first, and that first run's wall time is printed beside it: the
list's segments in an order (positions.py), which deep pages and searches of longer words
place through, are placed by the first request that needs them in a process. A search of
longer words keeps its matches in the process (kept_searches.kept_matches: paging through
it or sorting it another way reads none again), so each such search is timed twice: as a
repeated request (the matches kept) and, labelled "a new search", with the kept matches
forgotten before each run, as the first request of a search that nobody made before. On
PostgreSQL a new search takes the kept ids of the common lexemes (common_lexemes.py: of its
word, or of those of its words that are kept lexemes, the others through the GIN index), which
the worker's job keeps every minute: the build keeps them as that job would (timed and
printed), and each new search is timed a third time, labelled "GIN alone", with them set aside
(the path before them), in the same run; so is a search of one or two letters, which a kept
lexeme that starts with it tells to be more than 10,000 customers without counting them, and
whose deep pages read its matches from its kept bitmap (common_lexemes.prefix_matches).

BENCH_CUSTOMERS=100000 for a smaller register; BENCH_ONLY=word,word times only the requests
whose label holds one of the words, BENCH_DATABASES=sqlite (or postgresql) one database (while
working on them).
"""

import os
import statistics
import time
from contextlib import nullcontext

from sqlalchemy import func, insert, select, text, update

from shopadmin.auth.models import Role, StaffUser
from shopadmin.auth.services import create_staff_user
from shopadmin.customers import search_pages, search_segments
from shopadmin.customers.common_lexemes_job import refresh_when_stale
from shopadmin.customers.demo import generate_customers
from shopadmin.customers.kept_searches import forget_kept_matches
from shopadmin.customers.models import Customer, CustomerGroup
from shopadmin.customers.search import query_words
from shopadmin.customers.services import create_customer
from shopadmin.customers.trash import delete_customer
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportRowResult, ImportStatus

from ._postgres import database, postgres_server, server_cpu_ms
from .common import OUTPUT, bench_app, report, report_side_by_side, timings

COUNT = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
ONLY = [word for word in os.environ.get("BENCH_ONLY", "").split(",") if word]
PASSWORD = "bench password 2026"
BENCH_USER = "bench@shop.test"
WARNED = COUNT // 50
DEEP_PAGE = 5_000 * COUNT // 1_000_000 or 2
SERVER_CPU = False  # whether the requests go to the bench's own PostgreSQL server


def build(app) -> None:
    with app.app_context():
        have = db.session.scalar(select(func.count(Customer.id)))
        if have < COUNT:
            started = time.monotonic()
            generate_customers(COUNT - have)
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            elapsed = time.monotonic() - started
            print(f"built {COUNT - have:,} customers in {elapsed:.0f} s "
                  f"({(COUNT - have) / elapsed:,.0f}/s)")
        else:
            print(f"reusing {have:,} customers")
            # Registers built before demo data stopped dating changes after now: a change made
            # now must be the latest (the list's anchors and counts are kept until one).
            now = utcnow()
            if db.session.scalar(select(func.max(Customer.updated_at))) > now:
                db.session.execute(update(Customer).where(Customer.updated_at > now)
                                   .values(updated_at=now))
                db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The demo customers are written with their ids: the form's next id follows them.
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), "
                                    "(SELECT max(id) FROM customers))"))
            db.session.commit()
        if db.session.scalar(select(func.count(ImportRowResult.id))) < WARNED:
            _build_warnings()
        if db.engine.dialect.name == "postgresql":
            _keep_common_lexemes()


def _keep_common_lexemes() -> None:
    """What the worker's job (common_lexemes_job.keep_common_lexemes) does within a minute of a
    change: keep the ids of the common lexemes anew when they are stale."""
    started, server = time.perf_counter(), postgres_cpu_ms()
    kept = refresh_when_stale()
    db.session.commit()
    elapsed, server = time.perf_counter() - started, postgres_cpu_ms() - server
    if kept is None:
        print(f"the common lexemes' ids are current (checked in {elapsed * 1000:.0f} ms)")
    else:
        print(f"kept the ids of {kept} common lexemes in {elapsed:.1f} s "
              f"(the server's CPU {server / 1000:.1f} s), as the worker's job does")


def _build_warnings() -> None:
    """An import whose rows left a warning on WARNED customers spread over the register."""
    job = ImportJob(file_path="bench.csv", original_name="bench.csv",
                    status=ImportStatus.READY, rows_total=WARNED, warned=WARNED)
    db.session.add(job)
    db.session.flush()
    step = COUNT // WARNED
    rows = [{"import_id": job.id, "row": n + 2, "cells": [], "errors": [], "rejected": False,
             "warnings": [{"field": "birth_date", "message": "left empty"}],
             "customer_id": 1 + n * step} for n in range(WARNED)]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(ImportRowResult), rows[start:start + 5000])
    db.session.commit()
    print(f"built an import with warnings on {WARNED:,} customers")


def main() -> None:
    figures = {}
    if "sqlite" in DATABASES:
        figures["SQLite"] = measure(bench_app("customers"))
    with postgres_server() if "postgresql" in DATABASES else nullcontext() as server:
        if server:
            url = database(server, "bench_customers")
            figures["PostgreSQL"] = measure(bench_app("customers-postgres",
                                                      SQLALCHEMY_DATABASE_URI=url))
    if len(figures) > 1:
        print(f"\n{COUNT:,} customers: SQLite and PostgreSQL side by side")
        report_side_by_side(figures, median_target=50, slowest_target=150)


def cases(group_id: int, email_prefix: str, pages: int, language_pages: int) -> list:
    """(label, URL) of every kind of request the list answers."""
    deep = f"page={DEEP_PAGE}"
    sorts = [(f"sort {order} at page {DEEP_PAGE:,}", f"/customers/?sort={order}&{deep}")
             for key in ("name", "email", "created", "modified", "number")
             for order in (key, f"-{key}")]
    return [
        ("first page, unfiltered", "/customers/"),
        (f"middle page ({pages // 2:,})", f"/customers/?page={pages // 2}"),
        ("last page, unfiltered", f"/customers/?page={pages}"),
        *sorts,
        ("search one letter (k)", "/customers/?q=k"),
        ("search two letters (mu)", "/customers/?q=mu"),
        ("search city word (lodz)", "/customers/?q=lodz"),
        ("search by e-mail prefix", f"/customers/?q={email_prefix}"),
        ("search by last name", "/customers/?q=wisniewska"),
        ("search by company word", "/customers/?q=hurtownia"),
        ("search by postcode", "/customers/?q=90-001"),
        ("search two words (anna mull)", "/customers/?q=anna+mull"),
        ("search a word, page 20", "/customers/?q=berlin&page=20"),
        ("search sorted by e-mail", "/customers/?q=lukasz&sort=-email"),
        ("search one letter, newest first", "/customers/?q=k&sort=-created"),
        ("search two letters by e-mail, descending", "/customers/?q=mu&sort=-email"),
        (f"search one letter, page {DEEP_PAGE // 2:,}", f"/customers/?q=k&page={DEEP_PAGE // 2}"),
        ("search city word by e-mail, page 50", "/customers/?q=berlin&sort=email&page=50"),
        ("filter group + newsletter", f"/customers/?group={group_id}&newsletter=yes"),
        ("filter group + newsletter, page 100",
         f"/customers/?group={group_id}&newsletter=yes&page=100"),
        (f"filter language en, page {language_pages // 2:,}",
         f"/customers/?language=en&page={language_pages // 2}"),
        ("filter country + type, deep page", "/customers/?country=AT&type=business&page=150"),
        # (Names follow the country: Poland's sort far into the name order.)
        ("filter country, first page", "/customers/?country=PL"),
        ("filter country + newsletter, first page", "/customers/?country=PL&newsletter=yes"),
        ("filter country sorted by e-mail", "/customers/?country=GB&sort=email"),
        ("filter waiting for approval, page 500", "/customers/?approval=waiting&page=500"),
        ("filter created in a month", "/customers/?created_from=2025-01-01"
                                      "&created_to=2025-01-31&sort=-created"),
        ("filter import warnings", "/customers/?warnings=yes"),
        ("filter import warnings, last page", "/customers/?warnings=yes&page=400"),
        ("filter newsletter no, sort email deep", "/customers/?newsletter=no&sort=email&page=3000"),
    ]


def _search_alone(url: str) -> list[tuple[str, ...]]:
    """The words of a request that is a search alone (a sort and a page aside), else none."""
    query = url.partition("?")[2]
    words = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    if "q" not in words or not set(words) <= {"q", "sort", "page"}:
        return []
    return query_words(words["q"].replace("+", " "))


def _kept_search(url: str) -> bool:
    """Whether the request is a search of longer words alone, whose matches a process keeps."""
    words = _search_alone(url)
    return bool(words) and all(len(word) > 2 for alternatives in words for word in alternatives)


def _short_search(url: str) -> bool:
    """Whether the request is a search of one word of one or two letters alone, which on
    PostgreSQL is more than 10,000 customers by a kept lexeme (common_lexemes.more_than)."""
    words = _search_alone(url)
    return len(words) == 1 and len(words[0]) == 1 and len(words[0][0]) <= 2


def postgres_cpu_ms() -> float:
    """CPU milliseconds used so far by the bench's own PostgreSQL server (0 when the requests
    go elsewhere): see _postgres.server_cpu_ms."""
    return server_cpu_ms() if SERVER_CPU else 0.0


def own_server(url: str) -> bool:
    """Whether BENCH_POSTGRES_URL is a server on the bench's own data folder (started by hand,
    to change its indexes between runs): its CPU is then counted as the bench's own."""
    pid_file = OUTPUT / "postgres" / "data" / "postmaster.pid"
    return pid_file.exists() and f":{pid_file.read_text().split()[3]}/" in url


FIRST: dict[str, float] = {}  # label -> wall ms of the unmeasured first run


def timed(action, repeat: int = 9, label: str = "") -> tuple[list[float], list[float], float]:
    """Wall-clock and this process's CPU milliseconds of each of `repeat` runs, after one
    unmeasured run (its wall time kept in FIRST: the list's segments in an order, and its
    count, are placed by the first request that needs them in a process), and the PostgreSQL
    server's mean CPU milliseconds a run."""
    started = time.perf_counter()
    action()
    FIRST[label] = (time.perf_counter() - started) * 1000
    walls, cpus, server = [], [], 0.0
    for _ in range(repeat):
        server -= postgres_cpu_ms()
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - started_cpu) * 1000)
        server += postgres_cpu_ms()
    return walls, cpus, server / repeat


def after_a_change(app, client, page: int, kind: str,
                   repeat: int = 5) -> tuple[list[float], list[float], float]:
    """The middle page right after a change of the register (the change itself not timed):
    a customer's edit ("changed"), a new customer ("added", through the service the form
    calls, named to sort on the first pages), or one of those moved to the trash ("deleted").
    The list moves its kept positions and counts along with the change."""
    walls, cpus, server = [], [], 0.0
    for attempt in range(repeat):
        with app.app_context():
            actor = db.session.scalar(select(StaffUser).where(StaffUser.email == BENCH_USER))
            if kind == "changed":
                db.session.execute(update(Customer).where(Customer.id == 1 + attempt).values(
                    updated_at=utcnow()))
            elif kind == "added":
                create_customer({"first_name": "Bench", "last_name": f"Aaa {time.time_ns()}",
                                 "email": f"bench.{time.time_ns()}@bench-shop.eu"}, actor=actor)
            else:
                delete_customer(db.session.scalar(
                    select(Customer).where(Customer.email.like("bench.%@bench-shop.eu"),
                                           Customer.deleted_at.is_(None)).limit(1))
                    or db.session.get(Customer, COUNT // 3 + attempt), actor=actor)
            db.session.commit()
        server -= postgres_cpu_ms()
        started, started_cpu = time.perf_counter(), time.process_time()
        assert client.get(f"/customers/?page={page}").status_code == 200
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - started_cpu) * 1000)
        server += postgres_cpu_ms()
    return walls, cpus, server / repeat


def _load() -> str:
    """The machine's load averages (1, 5, 15 minutes): wall times on a shared machine stretch
    with them, CPU times much less."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def measure(app):
    """Build the customers when needed, time the list's requests; returns (baseline, rows)."""
    global SERVER_CPU
    SERVER_CPU = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and (
        not os.environ.get("BENCH_POSTGRES_URL") or own_server(os.environ["BENCH_POSTGRES_URL"]))
    print(f"--- {app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]}", flush=True)
    started_load = _load()
    build(app)
    with app.app_context():
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == BENCH_USER)) is None:
            create_staff_user(BENCH_USER, role=Role.ADMIN, password=PASSWORD)
            db.session.commit()
        group_id = db.session.scalar(select(CustomerGroup.id).order_by(CustomerGroup.id))
        sample = db.session.get(Customer, COUNT // 2)
        email_prefix = sample.email[:12]
        pages = (COUNT + 49) // 50
        english = db.session.scalar(select(func.count()).where(Customer.language == "en"))
        ids = iter(range(1, 10_000_000, 7919))

        def primary_key_lookup():
            db.session.execute(select(Customer.__table__).where(
                Customer.id == next(ids) % COUNT + 1)).first()

        def bare_first_page():
            db.session.execute(select(Customer.id).where(Customer.deleted_at.is_(None))
                               .order_by(Customer.last_name, Customer.first_name, Customer.id)
                               .limit(50)).all()

        baseline = timings(primary_key_lookup, repeat=50)
        bare_page = timings(bare_first_page, repeat=20)
    client = app.test_client()
    client.post("/login", data={"email": BENCH_USER, "password": PASSWORD})

    def get(url, new_search=False, index_alone=False):
        def run():
            if new_search:
                with app.app_context():
                    forget_kept_matches()
            kept_lexemes, more_than = search_segments.common_matches, search_pages.more_than
            prefixes, prefix_count = search_segments.prefix_matches, search_pages.prefix_count
            if index_alone:  # (the common lexemes' ids set aside: the path before them)
                search_segments.common_matches = lambda _words, _stamp: None
                search_pages.more_than = lambda _word, _at_least, _stamp: False
                search_segments.prefix_matches = lambda _word, _stamp: None
                search_pages.prefix_count = lambda _word: None
            try:
                response = client.get(url)
            finally:
                search_segments.common_matches = kept_lexemes
                search_pages.more_than = more_than
                search_segments.prefix_matches = prefixes
                search_pages.prefix_count = prefix_count
            assert response.status_code == 200, (url, response.status_code)
        return run

    chosen = []
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    for label, url in cases(group_id, email_prefix, pages, (english + 49) // 50):
        chosen.append((label, url, False, False))
        if _kept_search(url):
            chosen.append((f"{label}, a new search", url, True, False))
            if postgresql:
                chosen.append((f"{label}, a new search, GIN alone", url, True, True))
        elif _short_search(url):
            if "page=" in url or "sort=" in url:  # (perhaps placed from its matches' ids)
                chosen.append((f"{label}, a new search", url, True, False))
            if postgresql:
                chosen.append((f"{label}, GIN alone", url, False, True))
                if "page=" in url or "sort=" in url:
                    chosen.append((f"{label}, a new search, GIN alone", url, True, True))
    chosen = [case for case in chosen if not ONLY or any(word in case[0] for word in ONLY)]
    rows = [("raw: 50 ids from the name index", bare_page)]
    before = []  # (the GIN alone: a baseline beside the targets, not one of them)
    cpu, server = {}, {}
    for label, url, new_search, index_alone in chosen:
        walls, cpu[label], server[label] = timed(get(url, new_search, index_alone), label=label)
        (before if index_alone else rows).append((label, walls))
        print(f"  {label:<38} {statistics.median(walls):8.1f} ms median "
              f"(CPU {statistics.median(cpu[label]):6.1f} ms; the first run "
              f"{FIRST[label]:7.1f} ms)", flush=True)
    for kind in ("changed", "added", "deleted"):
        label = f"middle page, a customer just {kind}"
        if ONLY and not any(word in label for word in ONLY):
            continue
        walls, cpu[label], server[label] = after_a_change(app, client, pages // 2, kind)
        rows.append((label, walls))
        print(f"  {label:<38} {statistics.median(walls):8.1f} ms median "
              f"(CPU {statistics.median(cpu[label]):6.1f} ms)", flush=True)
    print(f"{COUNT:,} customers; whole requests through the app (query, count, template); "
          f"load average {started_load} at the start, {_load()} at the end (2 idle cores: 0)")
    report(rows, baseline, median_target=50, slowest_target=150)
    if before:
        print("the same searches with the common lexemes' ids set aside (the GIN index and "
              "the table alone, as before them), same run: median / slowest ms")
        for label, walls in before:
            print(f"  {label:<38} {statistics.median(walls):8.1f} {max(walls):8.1f}")
    print("this process's CPU time a request (median / slowest ms; on SQLite the query's too), "
          "and on PostgreSQL the server's (mean ms, in 10 ms ticks): the part a busy machine "
          "cannot stretch by making the request wait for a core")
    for label, times in cpu.items():
        print(f"  {label:<38} {statistics.median(times):8.1f} {max(times):8.1f}"
              + (f" {server[label]:8.1f}" if SERVER_CPU else ""))
    with app.app_context():
        db.engine.dispose()
    return baseline, rows


if __name__ == "__main__":
    main()
