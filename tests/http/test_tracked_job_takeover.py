"""A run whose heartbeat was late (a machine under load, a paused process) finds its job given to
another run by the sweep: it stops at its next checkpoint instead of working on beside the new
run, and nothing is done twice."""

import signal
import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, select, update

from shopadmin.database import utcnow
from shopadmin.extensions import db
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
