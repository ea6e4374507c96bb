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
  csv1   the same in one process (the two-process split off): against the raw floor, like
         for like;
  rows1  the same as csv1 on the general path (rows as driver tuples, written by csv.writer),
         not the lines the database writes: the export as it was before them, in the same run;
  xlsx   the same to an XLSX workbook (our streaming writer, every cell text);
and prints rows per second, peak memory, the time as a multiple of the raw floor and the CPU
seconds (user + system) of every process of the step: the step's own, its children's (the
second process of a two-process export) and, on PostgreSQL, the server's (its backends, read
from the postmaster's children's times), so that on a loaded machine the CPU shows what the wall
time cannot; the raw floor runs again last (`raw2`), so that a change of the machine's load
during the run shows. BENCH_EXPORT_STEPS=raw,csv1,csv,raw2 runs only those steps (raw always).
Targets: CSV above 100,000 rows per second, XLSX above 30,000; memory under 300 MB.
"""

import csv
import dataclasses
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ._postgres import server_cpu_ms
from .common import OUTPUT, peak_mb

CSV_TARGET = 100_000
XLSX_TARGET = 30_000
MEMORY_LIMIT_MB = 300
DATABASE = OUTPUT / "customers" / "shopadmin.db"


def raw_floor(target: Path, url: str = "", xlsx: bool = False) -> dict:
    from shopadmin.customers.export import EXPORTABLE

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


def our_export(target: Path, fmt: str, url: str = "", one_process: bool = False,
               general: bool = False) -> dict:
    """general: without the kind's CSV lines written by the database (the path before them)."""
    from shopadmin.exports import services as exports
    from shopadmin.exports.services import start_export, write_export
    from shopadmin.extensions import db
    from shopadmin.registry import registry

    if one_process:
        exports.PARALLEL_ROWS = exports.XLSX_PARALLEL_ROWS = float("inf")

    from .common import bench_app

    app = (bench_app("customers-postgres", SQLALCHEMY_DATABASE_URI=url) if url
           else bench_app("customers"))
    if general:
        kinds = registry(app).export_kinds
        kinds["customers"] = dataclasses.replace(kinds["customers"], csv_text=None)
    with app.app_context():
        started = time.perf_counter()
        export = start_export(None, fmt, None, "", None)
        db.session.commit()
        count = write_export(export, target)
        return {"seconds": time.perf_counter() - started, "rows": count}


def _child(step: str, target: str, url: str = "") -> None:
    if step in ("raw", "raw2", "bare"):
        result = raw_floor(Path(target), url, xlsx=step == "bare")
    elif step == "rows1":
        result = our_export(Path(target), "csv", url, one_process=True, general=True)
    else:
        result = our_export(Path(target), step.rstrip("1"), url, one_process=step.endswith("1"))
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


def _server_cpu(url: str) -> float:
    """CPU seconds the PostgreSQL server has spent so far (_postgres.server_cpu_ms); 0 on
    SQLite."""
    return server_cpu_ms() / 1000 if url else 0.0


def _run(step: str, target: Path, url: str = "") -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _server_cpu(url)
    output = subprocess.run(
        [sys.executable, "-c", "import sys; from bench.transfer_export import _child; "
         "_child(*sys.argv[1:])", step, str(target), url],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if output.returncode:
        sys.exit(f"bench step {step} failed:\n{output.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    result["cpu"] = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                     + _server_cpu(url) - server_before)
    return result


def report(name: str, results: dict) -> bool:
    """Print one database's steps; True when the targets are met."""
    ok = True
    print(f"--- {name}")
    print(f"{'step':<6}{'rows':>11}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}{'x raw':>7}"
          f"{'CPU s':>8}{'x raw CPU':>10}   load {os.getloadavg()[0]:.1f}")
    for step, result in results.items():
        rate = result["rows"] / result["seconds"]
        print(f"{step:<6}{result['rows']:>11,}{result['seconds']:>9.1f}{rate:>11,.0f}"
              f"{result['peak_mb']:>9.0f}{result['seconds'] / results['raw']['seconds']:>7.1f}"
              f"{result['cpu']:>8.1f}{result['cpu'] / results['raw']['cpu']:>10.2f}")
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


def same_files(folder: Path) -> bool:
    """Whether the CSV files of the steps that wrote our export are byte for byte the same
    (the lines written by the database against the general path's, at full size)."""
    import filecmp

    written = [folder / f"{step}.csv" for step in ("rows1", "csv1", "csv")
               if (folder / f"{step}.csv").exists()]
    same = all(filecmp.cmp(written[0], other, shallow=False) for other in written[1:])
    print(f"files of {', '.join(path.stem for path in written)}: "
          f"{'byte for byte the same' if same else 'DIFFERENT'}")
    for path in written:
        path.unlink()
    return same


def main() -> int:
    from shopadmin.extensions import db

    from ._postgres import database, postgres_server
    from .common import bench_app
    from .customers import build

    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    steps = os.environ.get("BENCH_EXPORT_STEPS", "raw,bare,rows1,csv1,csv,xlsx,raw2").split(",")
    steps = ["raw"] + [step for step in steps if step != "raw"]
    folder = OUTPUT / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    ok = True
    if "sqlite" in wanted:
        build(bench_app("customers"))  # the 1,000,000 demo customers, built once and reused
        ok &= report("SQLite", {
            step: _run(step, folder / f"{step}.{'xlsx' if step in ('bare', 'xlsx') else 'csv'}")
            for step in steps})
        ok &= same_files(folder)
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
                ok &= same_files(folder)
    for path in folder.iterdir():
        path.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
