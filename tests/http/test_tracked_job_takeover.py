"""A run whose heartbeat was late (a machine under load, a paused process) finds its job given to
another run by the sweep: it stops at its next checkpoint instead of working on beside the new
run, and nothing is done twice."""

import signal
from collections import Counter

import pytest
from sqlalchemy import create_engine, update

from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.notifications import services
from shopadmin.notifications.batches import run_batch
from shopadmin.notifications.delivery import GROUP
from shopadmin.notifications.models import BatchStatus, MailBatch
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
    # It settled the group it had handed over and stopped there.
    assert len(smtp_server.messages) == GROUP
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
