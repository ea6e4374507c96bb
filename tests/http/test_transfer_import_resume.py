"""A worker killed mid-import (kill -9) leaves no job processing forever and no row twice."""

import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import create_engine, func, select, text

from shopadmin.customers.models import Customer
from shopadmin.customers.search import indexed_customers
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports import services
from shopadmin.imports.models import ImportJob, ImportRowResult, ImportStatus, ImportTask
from shopadmin.imports.pipeline import run_import
from shopadmin.imports.plan import ImportOptions
from shopadmin.tracking import STALE_AFTER, sweep

ROWS = 20_000

APPLY_IN_A_WORKER = """
import sys
from shopadmin import create_app, tracking
from shopadmin.extensions import db
from shopadmin.imports import pipeline
from shopadmin.imports.models import ImportJob
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[2], "IMPORT_BATCH_ROWS": 250})
with app.app_context():
    tracking.claim(ImportJob, int(sys.argv[1]))  # as the worker's run does
    pipeline.run_import(db.session.get(ImportJob, int(sys.argv[1])), dry_run=False)
"""


def make_import(rows: int) -> ImportJob:
    # Not the reserved .test domain: the worker process does not run under the test settings.
    lines = ["First name;Last name;E-mail;Phone"]
    lines += [f"Zofia;Nowak {i};zofia{i}@sklep-nowak.pl;+48 600 {i:06d}" for i in range(rows)]
    # After the kill: a duplicate of a row before it (row 5 of the spreadsheet), still caught.
    lines.append("Zofia;Again;zofia3@sklep-nowak.pl;")
    job = services.start_import(io.BytesIO("\n".join(lines).encode()), "big.csv")
    services.save_mapping(job, job.mapping)
    services.save_options(job, ImportOptions())
    db.session.commit()
    run_import(job, dry_run=True)
    services.request_apply(job)
    db.session.commit()
    return job


def progress_of(engine, import_id: int) -> tuple[int, int]:
    with engine.connect() as connection:
        query = text("SELECT rows_done, rows_total FROM import_jobs WHERE id = :id")
        return connection.execute(query, {"id": import_id}).one()


def test_kill_9_at_40_percent_then_resume_imports_every_row_once(app, run_jobs):
    job = make_import(ROWS)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {**os.environ, "SHOPADMIN_INSTANCE_PATH": app.instance_path}
    worker = subprocess.Popen([sys.executable, "-c", APPLY_IN_A_WORKER, str(job.id), url],
                              env=env)
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 60
        done, total = 0, 0
        while time.monotonic() < deadline and worker.poll() is None:
            done, total = progress_of(engine, job.id)
            if total and done >= 0.4 * total:
                break
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        done, total = progress_of(engine, job.id)
    finally:
        engine.dispose()
    assert 0 < done < total == ROWS + 1, "the worker should die part-way"

    db.session.rollback()  # a fresh look at what the other process committed
    job = db.session.get(ImportJob, job.id)
    assert job.status == ImportStatus.PROCESSING and job.task == ImportTask.APPLY
    assert db.session.scalar(select(func.count(Customer.id))) == done  # whole batches only
    assert sweep() == []  # the heartbeat is still fresh: not taken for dead yet
    assert sweep(now=utcnow() + STALE_AFTER + timedelta(seconds=1)) == [("import", job.id)]
    db.session.refresh(job)
    assert job.resuming  # the page says "interrupted, resuming"
    run_jobs()

    db.session.rollback()
    job = db.session.get(ImportJob, job.id)
    assert job.status == ImportStatus.READY and job.task is None
    assert (job.created, job.rows_done, job.rejected) == (ROWS, ROWS + 1, 1)
    rejected = db.session.scalars(select(ImportRowResult).where(
        ImportRowResult.import_id == job.id)).one()
    assert "already in row 5 of this file" in rejected.errors[0]["message"]
    count, distinct = db.session.execute(
        select(func.count(Customer.id), func.count(func.distinct(Customer.email_key)))).one()
    assert count == distinct == ROWS
    # Every customer is in the search index, those written before the kill too.
    assert indexed_customers() == ROWS

    again = make_import(ROWS)  # a rerun of the same file duplicates no one
    run_import(again, dry_run=False)
    assert (again.created, again.unchanged, again.rejected) == (0, ROWS, 1)
    assert db.session.scalar(select(func.count(Customer.id))) == ROWS
