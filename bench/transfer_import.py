"""Import speed and memory: 1,000,000 customers, 25 columns, names in four languages.

Measures on SQLite, then on a PostgreSQL server the bench starts itself on loopback (Debian's
package; skipped when it is not installed), each step in a process of its own (so peak memory
is that step's own):
  raw     the same rows read with csv and written into our customers table made by our
          migrations (same columns, same indexes) in the database's fastest way: one
          executemany on SQLite, one COPY on PostgreSQL: the floor no import can beat;
  import  our full import (read, map, parse, validate, plan, write, search index, undo record,
          audit) into an empty database;
  update  a second import of the same file over those customers (match, compare, nothing to
          change);
  change  a third, of the same rows with every phone number changed and every fifth newsletter
          consent turned over (every customer updated: the row, its search vector, undo
          record, audit, and a consent event for a fifth);
  and prints rows per second, peak memory and our time as a multiple of the raw limit. One row
  in ten carries a warning (a birth date that is no date): it goes in without it.

Then, on SQLite, XLSX beside CSV, on the first 200,000 of those rows (BENCH_XLSX_ROWS), written
as Excel writes a workbook (shared strings, numbers as numbers):
  read     the bare readers: every row of the CSV and of the XLSX file as the import reads it,
           and of the XLSX file through python-calamine and openpyxl's read-only mode;
  cli      the import as `flask customers import` runs it, from the CSV and from the XLSX file;
  web      the web and worker path on the XLSX file: upload, preview, apply (the preview reads
           the whole file too);
each with peak memory. Target: XLSX import at 15,000 rows/s or more, under 300 MB.

BENCH_ROWS=20000 BENCH_XLSX_ROWS=20000 python -m bench.transfer_import   for a quick look;
BENCH_DATABASES=postgresql (or sqlite) for one database only.

On PostgreSQL the floor is the same rows written into tables indexed as ours, printed part by
part: one COPY of the customers into our customers table (its B-trees and unique keys), then one
COPY of their search vectors, made beforehand by our own term functions and untimed, in the
binary form the import sends, into the search table with its GIN index. The search table is an
index of the customers as much as their B-trees are, so both parts together are the equally
indexed floor (`x floor`) that the targets are judged by; `x COPY` is against the customers'
COPY alone. The floor is made first and last (raw2: the load's drift meanwhile), and the steps
are judged against the faster of the two. Beside each wall time: the CPU seconds of the step's
process and its children (the reading process) and of the server (every process of the bench's
PostgreSQL, read from /proc), so that a figure taken on a busy machine can be told apart from
the load; on a quiet machine the wall times are what the targets mean.
BENCH_IMPORT_BASE=REVISION runs the import, update and change passes of that revision too (git
archive into the scratch folder), alternated with this checkout's, BENCH_IMPORT_ROUNDS times
(1); BENCH_IMPORT_PASSES=2 leaves the change pass out (it takes longest); BENCH_PG_PROFILE=1
lists each step's statements by their time in the server (pg_stat_statements).
"""

import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import peak_mb, revision_code

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
XLSX_ROWS = int(os.environ.get("BENCH_XLSX_ROWS", "200000"))
XLSX_TARGET = 15_000
OUTPUT = Path(__file__).resolve().parent / "output"
TARGETS = {"import": 4.0, "update": 3.0, "change": 3.0}
PASSES = int(os.environ.get("BENCH_IMPORT_PASSES", "3"))  # 2: import and update only
MEMORY_LIMIT_MB = 300

HEADINGS = [
    "Customer number", "First name", "Last name", "E-mail", "Phone", "Mobile", "Language",
    "Gender", "Birth date", "Newsletter", "Customer type", "Company", "CoC number", "Country",
    "Address 1", "House number", "Postcode", "City", "Region", "Shipping differs",
    "Shipping address 1", "Shipping postcode", "Shipping city", "Notes", "Username",
]
PEOPLE = {
    "de": (["Jürgen", "Käthe", "Jörg", "Anneliese", "Günther", "Sophie"],
           ["Müller", "Schäfer", "Weiß", "Groß", "Köhler", "Bäcker"],
           ["Köln", "München", "Düsseldorf", "Görlitz"], "DE", "Straße"),
    "fr": (["Françoise", "Zoé", "Hélène", "Jérôme", "Anaïs", "Noël"],
           ["Lefèvre", "Gauthier", "Bérénice", "Dupré", "Chévrier", "Lemaître"],
           ["Besançon", "Orléans", "Nîmes", "Sète"], "FR", "rue"),
    "en": (["Oliver", "Amelia", "Harry", "Isla", "George", "Ava"],
           ["Smith", "O'Brien", "Jones", "Taylor", "Brown", "Davies"],
           ["London", "Leeds", "Bristol", "York"], "GB", "Road"),
    "pl": (["Łukasz", "Zofia", "Wojciech", "Małgorzata", "Jędrzej", "Żaneta"],
           ["Wójcik", "Kowalczyk", "Zieliński", "Szymańska", "Dąbrowski", "Łęcka"],
           ["Łódź", "Kraków", "Gdańsk", "Wrocław"], "PL", "ulica"),
}

COLUMNS = ["customer_number", "first_name", "last_name", "email", "phone", "mobile",
           "language", "gender", "birth_date", "newsletter", "customer_type", "company_name",
           "coc_number", "billing_country", "billing_address1", "billing_house_number",
           "billing_postcode", "billing_city", "billing_region", "shipping_differs",
           "shipping_address1", "shipping_postcode", "shipping_city", "notes", "username"]
OTHERS = ["email_key", "created_at", "updated_at", "version", "initials",
          "last_name_prefix", "approved", "confirmed", "vat_number", "company_id_number",
          "billing_attention", "billing_house_number_ext", "billing_address2",
          "shipping_company", "shipping_attention", "shipping_house_number",
          "shipping_house_number_ext", "shipping_address2", "shipping_region",
          "shipping_country", "origin"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(4)
    languages = list(PEOPLE)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADINGS)
        for n in range(rows):
            language = languages[n % 4]
            firsts, lasts, cities, country, street = PEOPLE[language]
            first, last, city = rng.choice(firsts), rng.choice(lasts), rng.choice(cities)
            business = n % 10 == 0
            writer.writerow([
                f"C{n:07d}", first, last, f"customer{n}@sklep-{language}.com",
                f"+48 22 {n % 1000:03d} {n % 100:02d} {n % 10}0", f"0{600000000 + n}", language,
                "female" if n % 2 else "male",
                # One row in ten carries a warning: a birth date that is no date.
                "31.02.1980" if n % 10 == 7
                else f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "yes" if n % 3 == 0 else "no", "business" if business else "private",
                f"{last} GmbH" if business else "", f"{10000000 + n}" if business else "",
                country, f"{street} {rng.randint(1, 200)}", str(1 + n % 150),
                f"{n % 100000:05d}", city, "", "no", "", "", "",
                "Bitte vor 10 Uhr liefern\nTor 2" if n % 50 == 0 else "", f"user{n}",
            ])


def changed(path: Path) -> Path:
    """The rows of `path` with every phone number changed and every fifth newsletter consent
    turned over (made once, kept beside it)."""
    target = path.with_name(path.stem + "-changed.csv")
    if not target.exists():
        phone, newsletter = HEADINGS.index("Phone"), HEADINGS.index("Newsletter")
        with path.open(encoding="utf-8", newline="") as source, \
                target.open("w", encoding="utf-8", newline="") as out:
            reader, writer = csv.reader(source), csv.writer(out)
            writer.writerow(next(reader))
            for n, cells in enumerate(reader):
                cells[phone] = f"+49 30 {n:07d}"
                if n % 5 == 0:
                    cells[newsletter] = "no" if cells[newsletter] == "yes" else "yes"
                writer.writerow(cells)
    return target


def raw_limit(path: Path, folder: Path) -> dict:
    """One executemany of the same rows into an equally indexed SQLite table."""
    from sqlalchemy import create_engine

    import shopadmin.models  # noqa: F401  (all tables known)
    from shopadmin.extensions import db

    database = folder / "raw.db"
    engine = create_engine(f"sqlite:///{database}")
    db.metadata.tables["customers"].create(engine)
    engine.dispose()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    names = COLUMNS + OTHERS
    sql = (f"INSERT INTO customers ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    now = "2026-01-01 00:00:00"
    fill = (now, now, 1, "", "", 1, 0, *[""] * 11, None, "import")
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = (tuple(cells) + (cells[3].lower(),) + fill for cells in reader)
        with connection:
            connection.executemany(sql, rows)
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds}


def search_vectors(path: Path) -> Path:
    """The search index's rows for the raw floor (made once, kept beside the CSV file): each
    row's customer id (1, 2, ... as a fresh table gives them) and its terms with their prefix
    lexemes, made by the import's own functions (terms_text, vector_copy_row), as the rows of a
    binary COPY: the form in which the import writes them."""
    from shopadmin.customers.search import vector_copy_row
    from shopadmin.customers.terms import terms_text

    target = path.with_name(path.stem + "-vectors.copy")
    if not target.exists():
        partial = target.with_suffix(".partial")
        with path.open(encoding="utf-8", newline="") as handle, partial.open("wb") as out:
            reader = csv.reader(handle)
            next(reader)
            for customer_id, cells in enumerate(reader, 1):
                values = dict(zip(COLUMNS, cells, strict=True))
                out.write(vector_copy_row(customer_id, terms_text(values)))
        partial.rename(target)
    return target


def raw_copy(path: Path, folder: Path, url: str) -> dict:
    """The floor on PostgreSQL: the same rows into tables indexed as ours, in one transaction,
    timed part by part. `customers`: one COPY of the rows into our customers table, made by our
    migrations (same columns, same B-trees and unique keys); `vectors`: one COPY of their
    search vectors (made beforehand by our own functions, untimed) into our search table with
    its GIN index, in the binary form the import sends. The search table is an index of the
    customers as much as their B-trees are: both together (`indexed`) are the equally indexed
    floor the import is judged against."""
    import psycopg
    from flask_migrate import upgrade

    from shopadmin import create_app
    from shopadmin.customers.search import COPY_BINARY_END, COPY_BINARY_START

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder)})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    vectors = search_vectors(path)
    names = COLUMNS + OTHERS
    now = "2026-01-01 00:00:00+00"
    fill = (now, now, 1, "", "", True, False, *[""] * 11, None, "import")
    birth_date = COLUMNS.index("birth_date")
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    statements = _statements_reset(url)
    with psycopg.connect(plain) as connection:
        clock = _Clock()
        with connection.cursor() as cursor, path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            with cursor.copy(f"COPY customers ({', '.join(names)}) FROM STDIN") as copy:
                for cells in reader:
                    # The one value PostgreSQL would refuse: the birth date that is no date.
                    if "." in cells[birth_date]:
                        cells[birth_date] = None
                    copy.write_row((*cells, cells[3].lower(), *fill))
            customers = clock.read()
            part = _Clock()
            with cursor.copy("COPY customer_search_vectors (customer_id, terms) FROM STDIN "
                             "(FORMAT BINARY)") as copy, vectors.open("rb") as source:
                copy.write(COPY_BINARY_START)
                while block := source.read(1 << 20):
                    copy.write(block)
                copy.write(COPY_BINARY_END)
            connection.commit()
            result = {**customers, "vectors": part.read(), "indexed": clock.read()}
    if statements:
        result["statements"] = _statements(url)
    return result


class _Clock:
    """Wall and CPU seconds since it was made: this process's and its children's, and the
    bench's PostgreSQL server's (every backend and background process of it)."""

    def __init__(self, server: bool = True):
        from ._postgres import server_cpu

        self._server = server_cpu if server else lambda: None
        self.wall, self.cpu, self.server = time.perf_counter(), _own_cpu(), self._server()

    def read(self) -> dict:
        server = self._server()
        return {"seconds": time.perf_counter() - self.wall, "cpu": _own_cpu() - self.cpu,
                "server_cpu": None if server is None or self.server is None
                else server - self.server}


def _own_cpu() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _statements_reset(url: str) -> bool:
    """With BENCH_PG_PROFILE=1: pg_stat_statements emptied (True), to list the step's
    statements by their time in the server afterwards."""
    import psycopg

    if not os.environ.get("BENCH_PG_PROFILE"):
        return False
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        connection.execute("SELECT pg_stat_statements_reset()")
    return True


def _statements(url: str, top: int = 12) -> list[list]:
    """The step's statements that took the most time in the server: [ms, calls, rows, SQL]."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        rows = connection.execute(
            "SELECT round(total_exec_time), calls, rows, left(regexp_replace(query, '\\s+', "
            "' ', 'g'), 110) FROM pg_stat_statements WHERE query NOT LIKE "
            "'%%pg_stat_statements%%' ORDER BY total_exec_time DESC LIMIT %s",
            (top,)).fetchall()
    return [[float(ms), calls, count, sql] for ms, calls, count, sql in rows]


def our_import(path: Path, folder: Path, url: str = "", web: bool = False) -> dict:
    """The full import, as `flask customers import` runs it (web: as the pages and the worker
    run it, with a preview first), into the database at url (or SQLite in folder)."""
    os.environ["SHOPADMIN_INSTANCE_PATH"] = str(folder)
    from flask_migrate import upgrade

    from shopadmin import create_app
    from shopadmin.extensions import db
    from shopadmin.imports import services
    from shopadmin.imports.pipeline import run_import
    from shopadmin.imports.plan import ImportOptions

    config = {"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / 'shopadmin.db'}"}
    if os.environ.get("BENCH_PARALLEL_ROWS"):  # e.g. 100000000: parse in this process only
        config["IMPORT_PARALLEL_ROWS"] = int(os.environ["BENCH_PARALLEL_ROWS"])
    app = create_app(config)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        statements = url and _statements_reset(url)
        started, clock = time.perf_counter(), _Clock(server=bool(url))
        with path.open("rb") as stream:
            job = services.start_import(stream, path.name)
        services.save_mapping(job, job.mapping)
        services.save_options(job, ImportOptions())
        db.session.commit()
        if web:
            run_import(job, dry_run=True)
        run_import(job, dry_run=False)
        seconds = time.perf_counter() - started
        spent = clock.read()
        counts = {k: getattr(job, k, None)
                  for k in ("created", "updated", "unchanged", "rejected", "warned")}
        errors = db.session.execute(db.text(
            "SELECT row, errors FROM import_row_results WHERE rejected LIMIT 3")).all()
        result = {"seconds": seconds, "cpu": spent["cpu"], "server_cpu": spent["server_cpu"],
                  "counts": counts, "errors": [list(e) for e in errors]}
        if statements:
            result["statements"] = _statements(url)
        db.engine.dispose()
    return result


def bare_read(path: Path, _folder: Path) -> dict:
    """Every row of the file as the import's reader gives them, nothing else."""
    from shopadmin import create_app
    from shopadmin.sheets.readers import open_worksheet

    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        started, cpu = time.perf_counter(), time.process_time()
        rows = sum(1 for _ in open_worksheet(path).rows())
        return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                "rows": rows}


def library_read(path: Path, library: str) -> dict:
    """Every row of an XLSX file through a kept library, for comparison with ours:
    python-calamine (Rust; it holds the whole sheet in memory, so its peak grows with the
    file) and openpyxl's read-only mode (streams; it believes the sheet's claimed dimension,
    so that is reset first). Neither shows a number as its format does (01067 stays 1067)."""
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    if library == "calamine":
        from python_calamine import CalamineWorkbook

        for _row in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows():
            rows += 1
    else:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for _row in sheet.iter_rows(values_only=True):
            rows += 1
        workbook.close()
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "rows": rows}


def _child(step: str, path: str, folder: str, url: str = "") -> None:
    if url:
        function = {"raw": raw_copy, "import": our_import}[step]
        result = function(Path(path), Path(folder), url)
    else:
        function = {"raw": raw_limit, "import": our_import, "read": bare_read,
                    "calamine": lambda path, _folder: library_read(path, "calamine"),
                    "openpyxl": lambda path, _folder: library_read(path, "openpyxl"),
                    "web": lambda path, folder: our_import(path, folder, web=True)}[step]
        result = function(Path(path), Path(folder))
    result["peak_mb"] = peak_mb()
    if "cpu" not in result:  # the step's process and its children (a reading process)
        mine = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["cpu"] = (mine.ru_utime + mine.ru_stime + children.ru_utime
                         + children.ru_stime)
    # The reading process of a big file (and any other child) on its own.
    result["child_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def _run(step: str, path: Path, folder: Path, url: str = "", tree: Path | None = None) -> dict:
    """One step in a process of its own; `tree`: another revision's code (base_tree)."""
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": str(root)} if tree else None
    output = subprocess.run(
        [sys.executable, "-c", "import sys; from bench.transfer_import import _child; "
         "_child(*sys.argv[1:])", step, str(path), str(folder), url],
        capture_output=True, text=True, cwd=tree or root, env=environment)
    if output.returncode:
        sys.exit(f"bench step {step} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def base_tree(revision: str, scratch: Path) -> Path:
    """BENCH_IMPORT_BASE's revision of the code; its steps run there, with this checkout's
    bench on the path (the revision's own bench folder is removed)."""
    tree = revision_code(revision, scratch)
    shutil.rmtree(tree / "bench")
    return tree


def measure_sqlite(path: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=OUTPUT) as scratch:
        raw = _run("raw", path, Path(scratch))
        folder = Path(scratch) / "instance"
        folder.mkdir()
        full = _run("import", path, folder)
        again = _run("import", path, folder)
        change = _run("import", changed(path), folder)
    return {"raw": raw, "import": full, "update": again, "change": change}


def measure_postgres(path: Path) -> dict | None:
    """raw, import, update, change, and the raw floor again last (raw2: how far the machine's
    load moved the floor meanwhile)."""
    from ._postgres import fresh_database, postgres_server

    profile = ("-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
               if os.environ.get("BENCH_PG_PROFILE") else "")
    with postgres_server(profile) as server, tempfile.TemporaryDirectory(dir=OUTPUT) as scratch:
        if server is None:
            return None
        raw = _run("raw", path, Path(scratch), fresh_database(server, "bench_import_raw"))
        results = {"raw": raw}
        # The import, update and change passes of this checkout, and with BENCH_IMPORT_BASE
        # of that revision too (alternated, BENCH_IMPORT_ROUNDS times), each into a fresh
        # database.
        base = os.environ.get("BENCH_IMPORT_BASE")
        trees = {"": None, **({"base ": base_tree(base, Path(scratch))} if base else {})}
        for round_ in range(int(os.environ.get("BENCH_IMPORT_ROUNDS", "1"))):
            for label, tree in trees.items():
                mark = f"{round_ + 1}" if round_ else ""
                folder = Path(scratch) / f"instance-{label.strip()}{round_}"
                folder.mkdir()
                url = fresh_database(server, "bench_import")
                for name, source in (("import", path), ("update", path),
                                     ("change", changed(path)))[:PASSES]:
                    results[f"{label}{name}{mark}"] = _run("import", source, folder, url, tree)
                fresh_database(server, "bench_import", keep=False)
        results["raw2"] = _run("raw", path, Path(scratch),
                               fresh_database(server, "bench_import_raw"))
        fresh_database(server, "bench_import_raw", keep=False)
    return results


def report(name: str, results: dict) -> bool:
    """Print one database's steps; True when every target is met. On PostgreSQL the floor is
    printed part by part, first and last (raw2), and the steps are judged against the faster
    of the two: x floor against both parts (the equally indexed floor), x COPY against the
    customers' COPY alone."""
    if name == "PostgreSQL":
        return _report_postgres(results)
    raw = results["raw"]
    ok = True
    print(f"--- {name}: {ROWS:,} rows; raw = one executemany; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':<13}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}{'child MB':>9}{'x raw':>7}"
          f"{'CPU s':>8}{'x raw CPU':>10}  counts")
    for step, result in results.items():
        ratio = result["seconds"] / raw["seconds"]
        print(f"{step:<13}{result['seconds']:>9.1f}{ROWS / result['seconds']:>11,.0f}"
              f"{result['peak_mb']:>9.0f}{result['child_mb']:>9.0f}{ratio:>7.2f}"
              f"{result['cpu']:>8.1f}{result['cpu'] / raw['cpu']:>10.2f}  "
              f"{result.get('counts', '')}")
        if result.get("errors"):
            print(f"         first rejected rows: {result['errors']}")
        ok &= _judged(step, ratio, result)
    return ok


def _judged(step: str, ratio: float, result: dict) -> bool:
    """Print what a step missed; True when it met its targets."""
    ok = True
    kind = step.split()[-1].rstrip("0123456789")
    if kind in TARGETS and ratio > TARGETS[kind]:
        print(f"         MISSED: {step} within {TARGETS[kind]}x the raw limit")
        ok = False
    if max(result["peak_mb"], result["child_mb"]) > MEMORY_LIMIT_MB:
        print(f"         MISSED: peak memory under {MEMORY_LIMIT_MB} MB")
        ok = False
    return ok


def _both(result: dict) -> float:
    return result["cpu"] + (result.get("server_cpu") or 0)


def _report_postgres(results: dict) -> bool:
    floors = {step: results[step] for step in ("raw", "raw2") if step in results}
    print(f"--- PostgreSQL: {ROWS:,} rows; load average {os.getloadavg()[0]:.1f}")
    print("floor: the same rows into tables indexed as ours (our migrations), in one "
          "transaction, made first (raw) and last (raw2); CPU s: every process of the step, "
          "server: the bench's PostgreSQL alone")
    print(f"{'part':<44}" + "".join(f"{step + ' s':>9}{'CPU s':>7}{'server':>8}"
                                    for step in floors))
    parts = (("COPY customers (B-trees, unique keys)", lambda f: f),
             ("COPY their search vectors (GIN), binary", lambda f: f["vectors"]),
             ("floor: both (equally indexed)", lambda f: f["indexed"]))
    for label, part in parts:
        print(f"{label:<44}" + "".join(
            f"{part(f)['seconds']:>9.2f}{_both(part(f)):>7.1f}{part(f)['server_cpu'] or 0:>8.1f}"
            for f in floors.values()))
        for ms, calls, count, sql in (floors["raw"].get("statements", ())
                                      if label.startswith("floor") else ()):
            print(f"         {ms / 1000:8.2f} s {calls:>7} calls {count:>9} rows  {sql}")
    best = min(floors.values(), key=lambda f: f["indexed"]["seconds"])
    floor, copy = best["indexed"], best
    print(f"judged against the faster floor: {floor['seconds']:.2f} s, {_both(floor):.1f} s "
          f"CPU (x floor); the customers' COPY of it alone {copy['seconds']:.2f} s (x COPY)")
    print(f"{'step':<13}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}{'child MB':>9}"
          f"{'x floor':>8}{'x COPY':>7}{'CPU s':>8}{'server':>8}{'x floor CPU':>12}  counts")
    ok = True
    for step, result in results.items():
        if step in floors:
            continue
        ratio = result["seconds"] / floor["seconds"]
        server = result.get("server_cpu")
        print(f"{step:<13}{result['seconds']:>9.1f}{ROWS / result['seconds']:>11,.0f}"
              f"{result['peak_mb']:>9.0f}{result['child_mb']:>9.0f}{ratio:>8.2f}"
              f"{result['seconds'] / copy['seconds']:>7.2f}{_both(result):>8.1f}"
              f"{'' if server is None else f'{server:.1f}':>8}"
              f"{_both(result) / _both(floor):>12.2f}  {result.get('counts', '')}")
        if result.get("errors"):
            print(f"         first rejected rows: {result['errors']}")
        for ms, calls, count, sql in result.get("statements", ()):
            print(f"         {ms / 1000:8.2f} s {calls:>7} calls {count:>9} rows  {sql}")
        ok &= _judged(step, ratio, result)
    return ok


def main() -> int:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"customers-{ROWS}-warnings.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, ROWS)
        print(f"generated {ROWS:,} rows x {len(HEADINGS)} columns in "
              f"{time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    ok = True
    if "sqlite" in wanted:
        ok &= report("SQLite", measure_sqlite(path))
        ok &= not xlsx_beside_csv(path)
    if "postgresql" in wanted and (results := measure_postgres(path)) is not None:
        ok &= report("PostgreSQL", results)
    return 0 if ok else 1


def excel_like(source: Path, target: Path, rows: int) -> None:
    """The first `rows` rows of the CSV file as Excel saves them: text in the shared strings
    table, whole numbers as numbers (house numbers), a style per cell."""
    import zipfile
    from xml.sax.saxutils import escape

    from shopadmin.sheets.xlsx_writer import write_xlsx

    write_xlsx(target, None, [])  # the package's other parts, then the sheet of our own
    with zipfile.ZipFile(target) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings: dict[str, int] = {}
    sheet = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
             '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1"/>'
             "<sheetData>"]
    letters = [chr(65 + n) for n in range(len(HEADINGS))]
    with source.open(encoding="utf-8", newline="") as handle:
        for number, cells in enumerate(csv.reader(handle), 1):
            if number > rows + 1:
                break
            row = [f'<row r="{number}" spans="1:{len(cells)}">']
            for column, value in enumerate(cells):
                if not value:
                    continue
                if value.isdigit() and not value.startswith("0") and len(value) < 10:
                    row.append(f'<c r="{letters[column]}{number}"><v>{value}</v></c>')
                else:
                    index = strings.setdefault(value, len(strings))
                    row.append(f'<c r="{letters[column]}{number}" s="1" t="s"><v>{index}</v></c>')
            sheet.append("".join(row) + "</row>")
    sheet.append("</sheetData></worksheet>")
    table = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
             f'schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">']
    table.extend(f'<si><t xml:space="preserve">{escape(text)}</t></si>' if "\n" in text
                 else f"<si><t>{escape(text)}</t></si>" for text in strings)
    table.append("</sst>")
    parts["xl/worksheets/sheet1.xml"] = "".join(sheet).encode()
    parts["xl/sharedStrings.xml"] = "".join(table).encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org'
        b'/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def xlsx_beside_csv(source: Path) -> bool:
    """The XLSX import beside the CSV import of the same rows; True when a target is missed."""
    rows = min(XLSX_ROWS, ROWS)
    csv_path = OUTPUT / f"customers-{rows}-warnings.csv"
    xlsx_path = OUTPUT / f"customers-{rows}-warnings.xlsx"
    if not csv_path.exists():
        with source.open(encoding="utf-8", newline="") as whole, \
                csv_path.open("w", encoding="utf-8", newline="") as part:
            writer = csv.writer(part)
            for number, cells in enumerate(csv.reader(whole)):
                if number > rows:
                    break
                writer.writerow(cells)
    if not xlsx_path.exists():
        excel_like(csv_path, xlsx_path, rows)
    results = {}
    for label, step, path in (("read CSV", "read", csv_path), ("read XLSX", "read", xlsx_path),
                              ("calamine", "calamine", xlsx_path),
                              ("openpyxl", "openpyxl", xlsx_path),
                              ("cli CSV", "import", csv_path), ("cli XLSX", "import", xlsx_path),
                              ("web XLSX", "web", xlsx_path)):
        with tempfile.TemporaryDirectory(dir=OUTPUT) as scratch:
            folder = Path(scratch) / "instance"
            folder.mkdir()
            results[label] = _run(step, path, folder)
    print(f"\n{rows:,} rows, {len(HEADINGS)} columns: CSV "
          f"({csv_path.stat().st_size / 1e6:.0f} MB) beside XLSX "
          f"({xlsx_path.stat().st_size / 1e6:.0f} MB)")
    print(f"{'step':<10}{'seconds':>9}{'CPU s':>7}{'rows/s':>11}{'peak MB':>9}{'child MB':>9}"
          f"{'x CSV':>7}  counts")
    missed = False
    for label, result in results.items():
        kind = label.split()[0]
        ratio = result["seconds"] / results[f"{kind} CSV"]["seconds"] \
            if f"{kind} CSV" in results else float("nan")
        rate = rows / result["seconds"]
        print(f"{label:<10}{result['seconds']:>9.1f}{result['cpu']:>7.1f}{rate:>11,.0f}"
              f"{result['peak_mb']:>9.0f}"
              f"{result['child_mb']:>9.0f}{ratio:>7.1f}  {result.get('counts', '')}")
        if label in ("cli XLSX", "web XLSX") and rate < XLSX_TARGET:
            print(f"          MISSED: XLSX import at {XLSX_TARGET:,} rows/s")
            missed = True
        if max(result["peak_mb"], result["child_mb"]) > MEMORY_LIMIT_MB \
                and label not in ("calamine", "openpyxl"):  # (for comparison only)
            print(f"          MISSED: peak memory under {MEMORY_LIMIT_MB} MB")
            missed = True
    return missed


if __name__ == "__main__":
    sys.exit(main())
