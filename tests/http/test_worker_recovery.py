"""Real `flask worker` processes killed for real: every job finishes with nothing lost and
nothing done twice. A mailing killed with SIGKILL mid-way sends each mail once (a real SMTP
server counts them); an import stopped with SIGTERM hands its job back and the next worker
resumes it at once."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.request import urlopen

import pytest
from sqlalchemy import create_engine, func, select, text

from shopadmin.customers.models import Customer
from shopadmin.extensions import db, huey
from shopadmin.imports import services as import_services
from shopadmin.imports.models import ImportJob, ImportStatus
from shopadmin.imports.plan import ImportOptions
from shopadmin.imports.tasks import run_import_task
from shopadmin.notifications import services
from shopadmin.notifications.delivery import SETTLE_EVERY
from shopadmin.notifications.models import BatchStatus, MailBatch, MailLog, MailStatus
from shopadmin.settings.services import update_settings

from ..factories import make_customer, make_staff

ROOT = Path(__file__).resolve().parents[2]


def worker_env(app) -> dict[str, str]:
    return {**os.environ, "SHOPADMIN_INSTANCE_PATH": app.instance_path,
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "SHOP_URL": app.config["SHOP_URL"],
           "SHOPADMIN_JOB_BEAT_SECONDS": "0.5", "SHOPADMIN_JOB_STALE_SECONDS": "2",
           "SHOPADMIN_JOB_SWEEP_SECONDS": "1", "MAIL_SERVER": "", "PYTHONWARNINGS": "ignore",
           # This test's queue: in Redis, another test's worker must not take its tasks.
           "SHOPADMIN_REDIS_PREFIX": app.config["REDIS_PREFIX"]}


def start_worker(app, smtp_port: int | None = None) -> subprocess.Popen:
    env = worker_env(app)
    if smtp_port:
        env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                             "--workers", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM])
def test_a_mailing_killed_mid_way_sends_every_mail_exactly_once(app, smtp_server, stop_signal):
    """SIGKILL: the sweep finds the mailing; SIGTERM: the worker hands it back itself."""
    update_settings({"mail_rate_per_minute": 3000})  # 50 a second: time to kill it mid-way
    staff = make_staff("admin")
    ids = [make_customer(email=f"kunde{n}@laden.test", first_name=f"K{n}").id
           for n in range(200)]
    db.session.commit()
    batch_id = services.send_password_mails(ids, staff).id
    db.session.commit()  # queues the mailing's run
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def sent() -> int:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM mail_logs WHERE batch_id = :b AND status = 'sent'"),
                {"b": batch_id}).scalar()

    first = start_worker(app, smtp_server.port)
    try:
        wait_for(lambda: sent() >= 50, 60, "50 mails sent")
        first.send_signal(stop_signal)
        killed_at = time.monotonic()
        first.wait(timeout=30)
        at_kill = sent()
        assert at_kill < 200, "the worker should die mid-way"
        second = start_worker(app, smtp_server.port)
        try:
            def batch() -> MailBatch:
                db.session.expire_all()
                return db.session.get(MailBatch, batch_id)

            wait_for(lambda: batch().interrupted_at is not None or batch().attempts, 30,
                     "the mailing found interrupted")
            interrupted_after = time.monotonic() - killed_at
            wait_for(lambda: batch().status == BatchStatus.DONE, 60, "the mailing done")
            done_after = time.monotonic() - killed_at
        finally:
            stop(second)
    finally:
        stop(first)
        engine.dispose()
    print(f"\nmailing: killed at {at_kill} of 200 sent; interrupted after "
          f"{interrupted_after:.1f} s, done {done_after:.1f} s after the kill")
    assert interrupted_after < 30
    received = Counter(rcpt for envelope in smtp_server.messages for rcpt in envelope.rcpt_tos)
    assert max(received.values()) == 1, "no customer gets a mail twice"
    logs = db.session.scalars(select(MailLog).where(MailLog.batch_id == batch_id)).all()
    statuses = Counter(log.status for log in logs)
    unknown = {log.recipient for log in logs if log.status == MailStatus.FAILED}
    assert all(log.error_kind == "interrupted" for log in logs if log.status == MailStatus.FAILED)
    assert statuses[MailStatus.SENT] + statuses[MailStatus.FAILED] == 200
    sent_to = {log.recipient for log in logs if log.status == MailStatus.SENT}
    # Every mail marked sent reached the server; one whose fate the kill left unknown (handed
    # over as the worker died) is shown as such and not sent again.
    assert sent_to <= set(received) and set(received) - sent_to <= unknown
    assert len(unknown) <= SETTLE_EVERY  # sent mails are committed that many at a time


def make_import(rows: int) -> int:
    # Not the reserved .test domain: the worker process does not run under the test settings.
    lines = ["First name;Last name;E-mail"]
    lines += [f"Jan;Kowalski {i};jan{i}@sklep-kowalski.pl" for i in range(rows)]
    job = import_services.start_import(io.BytesIO("\n".join(lines).encode()), "big.csv")
    import_services.save_mapping(job, job.mapping)
    import_services.save_options(job, ImportOptions())
    job.status = ImportStatus.PREVIEWED  # (the preview is not what this test is about)
    job.rows_total = rows
    import_services.request_apply(job)
    db.session.commit()
    return job.id


def assert_imported_once(import_id: int, rows: int) -> None:
    """The import finished with every row created, and each customer is in the register once."""
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert (job.created, job.rows_done, job.rejected) == (rows, rows, 0)
    count, distinct = db.session.execute(
        select(func.count(Customer.id), func.count(func.distinct(Customer.email_key)))).one()
    assert count == distinct == rows


def test_an_import_stopped_with_sigterm_is_handed_back_and_resumed_at_once(app):
    rows = 40_000  # some 20,000 go in a second: the stop must land mid-file (within a batch)
    app.config["IMPORT_PARALLEL_ROWS"] = 10**9  # one process: the point is the hand-back
    import_id = make_import(rows)
    run_import_task(import_id)  # queued for the worker
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def state() -> tuple:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT rows_done, status, task, interrupted_at, runner_token FROM import_jobs "
                "WHERE id = :id"), {"id": import_id}).one()

    first = start_worker(app)
    try:
        wait_for(lambda: state()[0] > 0, 60, "the import to commit a batch")
        first.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        first.wait(timeout=30)
        stopped_after = time.monotonic() - stopped_at
        done, status, task, interrupted_at, runner = state()
        assert 0 < done < rows and task == "apply" and runner is None
        assert interrupted_at is not None  # handed back, not left for the sweep
        restarted_at = time.monotonic()
        second = start_worker(app)
        try:
            wait_for(lambda: state()[4] is not None or state()[1] == "ready", 20,
                     "the import taken up again")
            running_after = time.monotonic() - restarted_at
            wait_for(lambda: state()[1] == "ready", 120, "the import finished")
        finally:
            stop(second)
    finally:
        stop(first)
        engine.dispose()
    print(f"\nimport: SIGTERM at row {done:,} of {rows:,}; the worker stopped in "
          f"{stopped_after:.1f} s; a new worker took the job up in {running_after:.1f} s")
    assert running_after < 10
    assert_imported_once(import_id, rows)


def children(pid: int) -> dict[int, str]:
    """The live child processes of `pid`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = command
    return found


def job_worker_of(serve: subprocess.Popen) -> int | None:
    return next((pid for pid, command in children(serve.pid).items()
                 if command.rstrip().endswith(" worker")), None)


def niceness(pid: int) -> set[int]:
    """The nice values of the process's threads (on Linux each thread has its own)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        values.add(int(stat.rsplit(")", 1)[1].split()[16]))
    return values


def test_serve_starts_a_killed_job_worker_again_and_its_import_resumes(app):
    """`make run` runs `flask serve`: a job worker killed under it is started again, the
    back office keeps answering, and the import it was running finishes with every row once.
    The job worker, and every thread it runs jobs in, yields the processor to the web's."""
    rows = 40_000
    app.config["IMPORT_PARALLEL_ROWS"] = 10**9
    import_id = make_import(rows)
    run_import_task(import_id)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def done() -> tuple:
        with engine.connect() as connection:
            return connection.execute(text("SELECT rows_done, status FROM import_jobs "
                                           "WHERE id = :id"), {"id": import_id}).one()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--bind", f"127.0.0.1:{port}",
         "--threads", "2"], cwd=ROOT, env=worker_env(app), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)

    def answers() -> bool:
        try:
            return urlopen(f"http://127.0.0.1:{port}/login", timeout=5).status == 200
        except OSError:
            return False

    try:
        first = wait_for(lambda: job_worker_of(serve), 30, "serve's job worker")
        wait_for(lambda: done()[0] > 0, 60, "the import to commit a batch")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (pid := job_worker_of(serve)) != first and pid, 10,
                          "a new job worker")
        assert serve.poll() is None and answers()
        wait_for(lambda: done()[1] == "ready", 120, "the import finished")
        assert job_worker_of(serve) == second
        assert niceness(second) == {app.config["JOB_WORKER_NICENESS"]} == {10}
        web = next(pid for pid, command in children(serve.pid).items() if "gunicorn" in command)
        assert niceness(web) == {0}
    finally:
        serve.send_signal(signal.SIGTERM)
        _, errors = serve.communicate(timeout=30)
        engine.dispose()
    assert "The job worker stopped (exit status -9); started again" in errors
    assert not children(serve.pid)
    assert_imported_once(import_id, rows)


def left_by_a_dead_worker(model, job_id: int) -> None:
    """What a worker killed mid-run leaves: the job held by its run, the heartbeat silent."""
    from datetime import timedelta

    from shopadmin import tracking
    from shopadmin.database import utcnow

    tracking.claim(model, job_id)
    db.session.execute(db.update(model).where(model.id == job_id).values(
        heartbeat_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def test_an_export_and_a_bulk_action_whose_worker_died_are_finished_by_the_next(app):
    from shopadmin.customers.bulk import BulkJob, perform_on_matching
    from shopadmin.exports.models import ExportJob, ExportStatus
    from shopadmin.exports.services import start_export

    staff = make_staff("admin")
    for n in range(1200):
        db.session.add(Customer(email=f"k{n}@laden.test", email_key=f"k{n}@laden.test",
                                first_name="Kai", last_name=f"Nr {n}", newsletter=False))
    db.session.commit()
    export_id = start_export(staff, "csv", None, "", None).id
    # Half done when the worker died: the worker walks on after the last customer done.
    bulk = perform_on_matching("newsletter_on", "q=kai", 1200, staff, {})
    db.session.commit()
    first_ids = db.session.scalars(select(Customer.id).order_by(Customer.id).limit(500)).all()
    db.session.execute(db.update(Customer).where(Customer.id.in_(first_ids))
                       .values(newsletter=True))
    bulk.done, bulk.last_id, bulk.changed, bulk.status = 500, max(first_ids), 500, "running"
    bulk_id = bulk.id
    db.session.commit()
    left_by_a_dead_worker(ExportJob, export_id)
    left_by_a_dead_worker(BulkJob, bulk_id)
    started = time.monotonic()
    worker = start_worker(app)
    try:
        def finished() -> bool:
            db.session.expire_all()
            export = db.session.get(ExportJob, export_id)
            # (the run writes the file, commits READY, then lets go of the job)
            return (export.status == ExportStatus.READY and export.runner_token is None
                    and db.session.get(BulkJob, bulk_id).status == "finished")

        wait_for(finished, 30, "the export and the bulk action finished")
    finally:
        stop(worker)
    print(f"\nexport and bulk action finished {time.monotonic() - started:.1f} s after a "
          "worker started")
    export = db.session.get(ExportJob, export_id)
    assert export.rows_done == 1200 and export.runner_token is None and export.attempts == 0
    bulk = db.session.get(BulkJob, bulk_id)
    assert (bulk.done, bulk.changed) == (1200, 1200)
    assert db.session.scalar(select(func.count(Customer.id)).where(
        Customer.newsletter.is_(True))) == 1200


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM])
def test_an_export_and_a_bulk_action_killed_mid_way_finish_with_everything_once(app,
                                                                               stop_signal):
    """A real worker killed with SIGKILL in the middle of an export (XLSX: slow enough to
    catch) and of a bulk action on all matching customers; the next worker finishes both:
    the export from the top, the bulk action after its last committed batch, no customer's
    change or consent recorded twice."""
    from shopadmin.audit import AuditEvent
    from shopadmin.customers.bulk import BulkJob, perform_on_matching, run_bulk_job
    from shopadmin.customers.models import ConsentEvent
    from shopadmin.exports.models import ExportJob, ExportStatus
    from shopadmin.exports.services import run_export, start_export

    count = 30_000
    staff = make_staff("admin")
    db.session.execute(db.insert(Customer), [
        {"email": f"k{n}@laden.test", "email_key": f"k{n}@laden.test", "first_name": "Kai",
         "last_name": f"Nr {n}", "newsletter": False} for n in range(count)])
    db.session.commit()
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def progress(sql: str) -> int:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar() or 0

    def killed_mid_way(sql: str, total: int) -> None:
        worker = start_worker(app)
        try:
            wait_for(lambda: progress(sql) > 0, 60, "the first committed progress")
            worker.send_signal(stop_signal)
            worker.wait(timeout=30)
        finally:
            stop(worker)
        done = progress(sql)
        # SIGTERM lets the run reach its next checkpoint, which may be the job's end.
        assert 0 < done < total or (stop_signal == signal.SIGTERM and done == total)

    export_id = start_export(staff, "xlsx", None, "", None).id
    db.session.commit()
    run_export(export_id)  # queued for the worker
    killed_mid_way(f"SELECT rows_done FROM export_jobs WHERE id = {export_id}", count)

    bulk_id = perform_on_matching("newsletter_on", "", count, staff, {}).id
    db.session.commit()
    run_bulk_job(bulk_id)
    killed_mid_way(f"SELECT done FROM customer_bulk_jobs WHERE id = {bulk_id}", count)

    started = time.monotonic()
    worker = start_worker(app)
    try:
        def finished() -> bool:
            db.session.expire_all()
            return (db.session.get(ExportJob, export_id).status == ExportStatus.READY
                    and db.session.get(BulkJob, bulk_id).status == "finished")

        wait_for(finished, 120, "the export and the bulk action finished")
    finally:
        stop(worker)
        engine.dispose()
    print(f"\nexport and bulk action killed mid-way finished {time.monotonic() - started:.1f} s "
          "after a new worker started")
    assert db.session.get(ExportJob, export_id).rows_done == count
    bulk = db.session.get(BulkJob, bulk_id)
    assert (bulk.done, bulk.changed) == (count, count)
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == count
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "customer.updated")) == count


def test_a_job_given_up_after_three_deaths_is_failed_and_can_be_started_again(
        app, client, login_as, run_jobs):
    from datetime import timedelta

    from shopadmin import tracking
    from shopadmin.customers.bulk import BulkJob, perform_on_matching
    from shopadmin.database import utcnow

    from ..conftest import csrf_token

    login_as("admin")
    staff = make_staff("admin")
    db.session.execute(db.insert(Customer), [
        {"email": f"k{n}@laden.test", "email_key": f"k{n}@laden.test"} for n in range(1100)])
    db.session.commit()
    bulk_id = perform_on_matching("newsletter_on", "", 1100, staff, {}).id
    db.session.commit()
    while huey.dequeue() is not None:
        pass  # the queued run is lost, as with a dead worker's queue
    later = utcnow()
    for _attempt in range(tracking.MAX_ATTEMPTS):  # held by a run that dies, three times
        tracking.claim(BulkJob, bulk_id, now=later)
        later += timedelta(minutes=1)
        tracking.sweep(now=later)
    db.session.expire_all()
    bulk = db.session.get(BulkJob, bulk_id)
    assert bulk.status == "failed" and "3 times" in bulk.error
    page = client.get(f"/customers/bulk/{bulk_id}").get_data(as_text=True)
    assert 'id="bulk-failed"' in page and "Start again" in page
    url = f"/customers/bulk/{bulk_id}/start-again"
    client.post(url, data={"csrf_token": csrf_token(client, f"/customers/bulk/{bulk_id}")})
    run_jobs()
    db.session.expire_all()
    bulk = db.session.get(BulkJob, bulk_id)
    assert (bulk.status, bulk.done, bulk.attempts) == ("finished", 1100, 0)
