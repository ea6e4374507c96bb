"""Export speed and memory: all 1,000,000 customers of the customers bench to CSV and XLSX.

Measures on SQLite, then on the customers bench's PostgreSQL database (a server the bench starts
itself on loopback; skipped when PostgreSQL is not installed; CSV only there), each step in a
process of its own (so peak memory is that step's own):
  raw    the same columns read with the driver (sqlite3; psycopg with a server-side cursor) in
         id order and written with csv.writer: the floor no CSV export can beat;
  bare   the same rows written by our XLSX sheet writer alone (xlsx_writer.py): its floor
         (SQLite only);
  csv    our export (`flask customers export --format csv`: the job, the list's query, every
         exportable column, cells the import reads back, formula neutralising, progress);
  csv1   the same in one process (the two-process split off): the per-row path against the
         raw floor, like for like;
  xlsx   the same to an XLSX workbook (our streaming writer, every cell text);
and prints rows per second, peak memory and the time as a multiple of the raw floor; the raw
floor runs again last (`raw2`), so that a change of the machine's load during the run shows.
BENCH_EXPORT_STEPS=raw,csv1,csv,raw2 runs only those steps (raw always).
Targets: CSV above 100,000 rows per second, XLSX above 30,000; memory under 300 MB.
"""

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .common import OUTPUT, peak_mb

CSV_TARGET = 100_000
XLSX_TARGET = 30_000
MEMORY_LIMIT_MB = 300
DATABASE = OUTPUT / "customers" / "shopadmin.db"


def raw_floor(target: Path, url: str = "", xlsx: bool = False) -> dict:
    from shopadmin.exports.kinds import EXPORTABLE

    names = [f.name for f in EXPORTABLE if f.name != "groups"]
    sql = f"SELECT {', '.join(names)} FROM customers ORDER BY id"
    if url:
        import psycopg

        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
        cursor = connection.cursor(name="raw_floor")  # server-side: streamed, not all at once
        cursor.itersize = 10_000
    else:
        connection = sqlite3.connect(DATABASE)
        cursor = connection.cursor()
    started = time.perf_counter()
    if xlsx:
        from shopadmin.sheets.xlsx_writer import write_xlsx

        cursor.execute(sql)
        rows = ([None if value is None else str(value) for value in row] for row in cursor)
        count = write_xlsx(target, names, rows, "Customers")
        connection.close()
        return {"seconds": time.perf_counter() - started, "rows": count}
    count = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        cursor.execute(sql)
        for row in cursor:
            writer.writerow(row)
            count += 1
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds, "rows": count}


def our_export(target: Path, fmt: str, url: str = "", one_process: bool = False) -> dict:
    from shopadmin.exports import services as exports
    from shopadmin.exports.services import start_export, write_export
    from shopadmin.extensions import db

    if one_process:
        exports.PARALLEL_ROWS = exports.XLSX_PARALLEL_ROWS = float("inf")

    from .common import bench_app

    app = (bench_app("customers-postgres", SQLALCHEMY_DATABASE_URI=url) if url
           else bench_app("customers"))
    with app.app_context():
        started = time.perf_counter()
        export = start_export(None, fmt, None, "", None)
        db.session.commit()
        count = write_export(export, target)
        return {"seconds": time.perf_counter() - started, "rows": count}


def _child(step: str, target: str, url: str = "") -> None:
    if step in ("raw", "raw2", "bare"):
        result = raw_floor(Path(target), url, xlsx=step == "bare")
    else:
        result = our_export(Path(target), step.rstrip("1"), url, one_process=step.endswith("1"))
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


def _run(step: str, target: Path, url: str = "") -> dict:
    output = subprocess.run(
        [sys.executable, "-c", "import sys; from bench.transfer_export import _child; "
         "_child(*sys.argv[1:])", step, str(target), url],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if output.returncode:
        sys.exit(f"bench step {step} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def report(name: str, results: dict) -> bool:
    """Print one database's steps; True when the targets are met."""
    ok = True
    print(f"--- {name}")
    print(f"{'step':<6}{'rows':>11}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}{'x raw':>7}")
    for step, result in results.items():
        rate = result["rows"] / result["seconds"]
        print(f"{step:<6}{result['rows']:>11,}{result['seconds']:>9.1f}{rate:>11,.0f}"
              f"{result['peak_mb']:>9.0f}{result['seconds'] / results['raw']['seconds']:>7.1f}")
        if step in ("csv", "csv1") and rate < CSV_TARGET:
            print(f"      MISSED: CSV export above {CSV_TARGET:,} rows/s")
            ok = False
        if step == "xlsx" and rate < XLSX_TARGET:
            print(f"      MISSED: XLSX export above {XLSX_TARGET:,} rows/s")
            ok = False
        if result["peak_mb"] > MEMORY_LIMIT_MB:
            print(f"      MISSED: peak memory under {MEMORY_LIMIT_MB} MB")
            ok = False
    return ok


def main() -> int:
    from shopadmin.extensions import db

    from ._postgres import database, postgres_server
    from .common import bench_app
    from .customers import build

    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    steps = os.environ.get("BENCH_EXPORT_STEPS", "raw,bare,csv1,csv,xlsx,raw2").split(",")
    steps = ["raw"] + [step for step in steps if step != "raw"]
    folder = OUTPUT / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    ok = True
    if "sqlite" in wanted:
        build(bench_app("customers"))  # the 1,000,000 demo customers, built once and reused
        ok &= report("SQLite", {
            step: _run(step, folder / f"{step}.{'xlsx' if step in ('bare', 'xlsx') else 'csv'}")
            for step in steps})
    if "postgresql" in wanted:
        with postgres_server() as server:
            if server:
                url = database(server, "bench_customers")
                app = bench_app("customers-postgres", SQLALCHEMY_DATABASE_URI=url)
                build(app)
                with app.app_context():
                    db.engine.dispose()
                ok &= report("PostgreSQL", {step: _run(step, folder / f"{step}.csv", url)
                                            for step in steps if step not in ("bare", "xlsx")})
    for path in folder.iterdir():
        path.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
