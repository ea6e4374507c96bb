"""A run whose heartbeat was late (a machine under load, a paused process) finds its job given to
another run by the sweep: it stops at its next checkpoint instead of working on beside the new
run, and nothing is done twice."""

import io
import signal
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select, update

from shopadmin import tracking
from shopadmin.customers.models import Customer
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports import services as import_services
from shopadmin.imports.models import ImportJob
from shopadmin.imports.pipeline import run_import
from shopadmin.imports.plan import ImportOptions
from shopadmin.notifications import services
from shopadmin.notifications.batches import run_batch
from shopadmin.notifications.delivery import GROUP, SETTLE_EVERY
from shopadmin.notifications.models import BatchStatus, MailBatch, MailLog, MailStatus
from shopadmin.settings.services import update_settings

from ..factories import make_customer
from .test_password_mails import use_smtp


@pytest.fixture
def deadline():
    """Fail a test whose run goes on forever instead of hanging the suite."""

    def expired(signum, frame):
        raise AssertionError("the run did not stop")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_mailing_run_that_lost_its_mailing_stops_and_no_mail_goes_twice(
        app, smtp_server, deadline):
    use_smtp(app, smtp_server)
    update_settings({"mail_rate_per_minute": 600_000})  # paced: the run calls sleep per mail
    customers = [make_customer(email=f"kunde{n}@laden.test") for n in range(3 * GROUP)]
    batch_id = services.send_password_mails([c.id for c in customers], None).id
    db.session.commit()
    other_process = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    paced = 0

    def late_heartbeat(seconds: float) -> None:
        nonlocal paced
        paced += 1
        if paced == 5:  # mid-group: the sweep gives the mailing to another run
            with other_process.begin() as connection:
                connection.execute(update(MailBatch).where(MailBatch.id == batch_id)
                                   .values(runner_token="another run", heartbeat_at=utcnow()))

    try:
        assert run_batch(batch_id, sleep=late_heartbeat) is None
    finally:
        other_process.dispose()
    # It settled the mails it had handed over, gave the rest of its group back to the queue at
    # the next settling, and stopped there.
    assert len(smtp_server.messages) == SETTLE_EVERY
    db.session.expire_all()
    batch = db.session.get(MailBatch, batch_id)
    assert (batch.status, batch.runner_token) == (BatchStatus.RUNNING, "another run")

    # The other run (here: as if it had been queued afresh) sends the rest, each mail once.
    batch.runner_token = None
    db.session.commit()
    assert run_batch(batch_id) is None
    received = Counter(rcpt for envelope in smtp_server.messages for rcpt in envelope.rcpt_tos)
    assert sorted(received) == sorted(c.email for c in customers)
    assert set(received.values()) == {1}
    db.session.expire_all()
    assert db.session.get(MailBatch, batch_id).status == BatchStatus.DONE


def test_a_late_run_and_the_run_that_took_over_never_send_one_mail_twice(
        app, smtp_server, deadline):
    """The sweep gives the mailing to another run while the late one is mid-group, and that run
    works the whole mailing before the late one hands over its next mail: the late run's
    claimed mails are sorted by the new run (the first SETTLE_EVERY still "sending" may have
    gone out, the others go out again), so the late run must not hand over any of the others."""
    use_smtp(app, smtp_server)
    update_settings({"mail_rate_per_minute": 600_000})  # paced: the run calls sleep per mail
    customers = [make_customer(email=f"kunde{n}@laden.test") for n in range(3 * GROUP)]
    batch_id = services.send_password_mails([c.id for c in customers], None).id
    db.session.commit()
    paced = 0
    other_run: list[object] = []

    def run_taking_over() -> None:
        with app.app_context():  # (a session of its own, as in another worker)
            db.session.execute(update(MailBatch).where(MailBatch.id == batch_id)
                               .values(runner_token=None, heartbeat_at=utcnow()))  # the sweep
            db.session.commit()
            other_run.append(run_batch(batch_id))

    def late_heartbeat(seconds: float) -> None:
        nonlocal paced
        paced += 1
        if paced == SETTLE_EVERY + 3:  # mid-way through the group's second settling
            thread = threading.Thread(target=run_taking_over)
            thread.start()
            thread.join()

    assert run_batch(batch_id, sleep=late_heartbeat) is None
    assert other_run == [None]
    received = Counter(rcpt for envelope in smtp_server.messages for rcpt in envelope.rcpt_tos)
    assert sorted(received) == sorted(c.email for c in customers)
    assert set(received.values()) == {1}, "no customer gets the mail twice"
    db.session.expire_all()
    logs = db.session.scalars(select(MailLog).where(MailLog.batch_id == batch_id)).all()
    # The late run recorded the mails it handed over after the other run had counted them as
    # possibly gone: every mail is known to be sent.
    assert {log.status for log in logs} == {MailStatus.SENT}
    assert db.session.get(MailBatch, batch_id).status == BatchStatus.DONE


def test_an_import_run_that_lost_its_job_commits_nothing_more(app):
    """The sweep gives an import to another run between two commits of a late run: the late
    run's next transaction is dropped (the run that holds the job writes those rows), and the
    import resumed from the last commit stores every row once."""
    app.config["IMPORT_BATCH_ROWS"] = 50
    lines = ["First name;Last name;E-mail"]
    lines += [f"Jan;Kowalski {n};jan{n}@sklep.test" for n in range(300)]
    job = import_services.start_import(io.BytesIO("\n".join(lines).encode()), "big.csv")
    import_services.save_mapping(job, job.mapping)
    import_services.save_options(job, ImportOptions())
    db.session.commit()
    token = tracking.claim(ImportJob, job.id)
    other_process = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    batches = 0

    def progress(_job) -> None:
        nonlocal batches
        batches += 1
        time.sleep(1.05)  # (the run commits at most once a second: each next batch commits)
        if batches == 2:  # the sweep gives the import to another run
            with other_process.begin() as connection:
                connection.execute(update(ImportJob).where(ImportJob.id == job.id)
                                   .values(runner_token="another run", heartbeat_at=utcnow()))

    try:
        with pytest.raises(tracking.HandedBack):
            run_import(job, dry_run=False, progress=progress,
                       holds=lambda: tracking.still_holds(ImportJob, job.id, token))
        with other_process.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(Customer)).scalar()
            done = connection.execute(select(ImportJob.rows_done)
                                      .where(ImportJob.id == job.id)).scalar()
    finally:
        other_process.dispose()
    assert stored == done == 100  # the two batches committed before the take-over, no more

    db.session.expire_all()
    run_import(db.session.get_one(ImportJob, job.id), dry_run=False, resume=True)
    emails = db.session.scalars(select(Customer.email)).all()
    assert sorted(emails) == sorted(f"jan{n}@sklep.test" for n in range(300))
    assert db.session.get_one(ImportJob, job.id).created == 300
