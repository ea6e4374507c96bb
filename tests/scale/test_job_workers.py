"""Two `flask worker` processes on one Redis queue share the imports uploaded through the web,
and no row is written twice: not when both work at once, not when one dies mid-import."""

import io
import os
import re
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from shopadmin.customers.models import Customer
from shopadmin.customers.search import indexed_customers
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportStatus
from shopadmin.tracking import STALE_AFTER

from ..conftest import csrf_token
from ..http.test_transfer_import import review_form
from .conftest import log_of, wait_for

IMPORT_TASK = re.compile(r"Executing shopadmin\.imports\.tasks\.run_import_task: (\S+)")


def worksheet(tag: str, rows: int) -> bytes:
    # Not the reserved .test domain: the workers do not run under the test settings.
    lines = ["First name;Last name;E-mail;Phone"]
    lines += [f"Zofia;Nowak {i};{tag}{i}@sklep-nowak.pl;+48 600 {i:06d}" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def upload(client, content: bytes, name: str) -> int:
    """Upload through /imports/new; returns the import's id."""
    token = csrf_token(client, "/imports/new")
    # Encoded here in memory: the test client spools a body this big to a file it leaves open.
    boundary, body = encode_multipart(MultiDict({
        "csrf_token": token, "kind": "customers",
        "file": FileStorage(io.BytesIO(content), filename=name)}))
    response = client.post("/imports/new", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def job_now(import_id: int) -> ImportJob:
    """The job row as the workers last committed it."""
    db.session.rollback()
    job = db.session.get(ImportJob, import_id)
    db.session.refresh(job)
    return job


def previewed(client, import_id: int) -> None:
    response = client.post(f"/imports/{import_id}", data=review_form(client, import_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    wait_for(lambda: job_now(import_id).status == ImportStatus.PREVIEWED, 60,
             f"the preview of import {import_id}")


def apply(client, import_id: int) -> None:
    token = csrf_token(client, f"/imports/{import_id}")
    response = client.post(f"/imports/{import_id}/apply", data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def finished(import_id: int, timeout: float = 120) -> ImportJob:
    job = wait_for(lambda: (job := job_now(import_id)).task is None and job, timeout,
                   f"import {import_id} to finish")
    assert job.status == ImportStatus.READY, (job.status, job.error)
    return job


def import_tasks_run(*workers) -> list[Counter]:
    return [Counter(IMPORT_TASK.findall(log_of(worker))) for worker in workers]


def customers_and_distinct_emails() -> tuple[int, int]:
    db.session.rollback()
    return db.session.execute(
        select(func.count(Customer.id), func.count(func.distinct(Customer.email_key)))).one()


def test_two_workers_share_the_imports_and_write_every_row_once(client, login_as, processes,
                                                                app):
    login_as("staff")
    first, second = processes.worker("worker-a", app), processes.worker("worker-b", app)
    rows = 8000
    imports = [upload(client, worksheet(tag, rows), f"{tag}.csv") for tag in ("north", "south")]
    for import_id in imports:
        previewed(client, import_id)
    for import_id in imports:  # both queued at once: one worker takes each
        apply(client, import_id)
    for import_id in imports:
        job = finished(import_id)
        assert (job.created, job.updated, job.rejected, job.rows_done) == (rows, 0, 0, rows)

    assert customers_and_distinct_emails() == (2 * rows, 2 * rows)
    ran_first, ran_second = import_tasks_run(first, second)
    assert ran_first and ran_second, "each worker should have run import tasks"
    # Four tasks (two previews, two applies), each run by one worker, once.
    assert len(ran_first + ran_second) == 4
    assert set((ran_first + ran_second).values()) == {1}


def test_a_worker_killed_mid_import_leaves_it_to_another_and_no_row_twice(client, login_as,
                                                                          processes, app):
    login_as("staff")
    workers = [processes.worker("worker-a", app), processes.worker("worker-b", app)]
    rows = 24_000
    import_id = upload(client, worksheet("west", rows), "west.csv")
    previewed(client, import_id)
    before = import_tasks_run(*workers)
    apply(client, import_id)
    wait_for(lambda: 0 < job_now(import_id).rows_done < rows, 60, "the first committed batch",
             interval=0.01)
    after = import_tasks_run(*workers)
    running = [worker for worker, was, now in zip(workers, before, after, strict=True)
               if now != was]
    assert len(running) == 1, "one worker should run the import"
    os.killpg(running[0].pid, signal.SIGKILL)
    running[0].wait()
    survivor = next(worker for worker in workers if worker is not running[0])
    done = job_now(import_id).rows_done
    assert 0 < done < rows, "the worker should die part-way"

    # As if the heartbeat had been silent for longer than STALE_AFTER: the next worker that
    # starts (or the survivor's sweep) takes the import over after its last committed batch.
    db.session.execute(update(ImportJob).where(ImportJob.id == import_id)
                       .values(heartbeat_at=utcnow() - STALE_AFTER * 2))
    db.session.commit()
    newcomer = processes.worker("worker-c", app)

    job = finished(import_id)
    assert (job.created, job.rows_done, job.rejected) == (rows, rows, 0)
    assert customers_and_distinct_emails() == (rows, rows)
    assert indexed_customers() == rows
    resumed = sum(log_of(worker).count("worker gone, queued again") for worker in
                  (survivor, newcomer))
    assert resumed == 1


def test_a_worker_on_another_machine_runs_an_import_uploaded_through_the_web(
        client, login_as, processes, app, tmp_path):
    """Another machine: an instance folder of its own (no database file, secret key or queue of
    the web's), the same database, Redis and secret key, and the web's file location shared."""
    login_as("staff")
    elsewhere = tmp_path / "other-machine"
    elsewhere.mkdir()
    worker = processes.worker("worker-elsewhere", app, SHOPADMIN_INSTANCE_PATH=str(elsewhere),
                              SHOPADMIN_FILES_PATH=str(Path(app.config["UPLOAD_FOLDER"]).parent))
    rows = 3000
    import_id = upload(client, worksheet("remote", rows), "remote.csv")
    previewed(client, import_id)
    apply(client, import_id)
    job = finished(import_id)
    assert (job.created, job.rows_done, job.rejected) == (rows, rows, 0)
    assert customers_and_distinct_emails() == (rows, rows)
    assert len(IMPORT_TASK.findall(log_of(worker))) == 2  # the preview and the apply
    assert not any(path.is_file() for path in elsewhere.rglob("*")), \
        "nothing of the shop's belongs in the other machine's own instance folder"
