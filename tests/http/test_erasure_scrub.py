"""On SQLite, the scrub of the database's files after forgetting customers runs in the worker:
the request answers at once, many erasures make one scrub, a scrub left by a dead worker (or
whose task was lost) is done by the next, and the audit events say when the data was gone."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from shopadmin import tracking
from shopadmin.audit import AuditEvent
from shopadmin.customers.models import Customer
from shopadmin.customers.scrub import GONE_KEY, SCRUB_KEY, Scrub
from shopadmin.database import utcnow
from shopadmin.extensions import db, huey

from ..conftest import POSTGRES_URL, csrf_token
from ..factories import make_customer
from .test_worker_recovery import start_worker, stop, wait_for

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's files only")


def erase(client, customer: Customer):
    url = f"/customers/{customer.id}/privacy/erase"
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "email": customer.email})


def forgetting_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("customer.erased", "customer.purged"))).order_by(AuditEvent.id)))


def file_holds(path: Path, needle: str) -> bool:
    return any(needle.encode() in file.read_bytes()
               for file in path.parent.glob(path.name + "*"))


def test_erasures_of_a_minute_make_one_scrub_done_by_the_worker(app, client, login_as,
                                                                 run_jobs):
    app.config["SCRUB_DELAY_SECONDS"] = 60
    login_as("admin")
    customers = [make_customer(email=f"weg{n}@laden.test", last_name=f"Zauberflöte{n}")
                 for n in range(3)]
    db.session.commit()
    for customer in customers[:2]:
        assert erase(client, customer).status_code == 302
    url = f"/customers/{customers[2].id}/delete"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    client.post("/customers/trash/empty",
                data={"csrf_token": csrf_token(client, "/customers/trash/")})
    # The requests answered without scrubbing: one scrub waits, due in a minute.
    scrub = db.session.scalars(select(Scrub)).one()
    assert (scrub.status, scrub.customers) == ("waiting", 3)
    assert scrub.heartbeat_at > utcnow() + timedelta(seconds=50)
    events = forgetting_events()
    assert [e.changes for e in events] == [{SCRUB_KEY: scrub.id}] * 3
    # One task, due in a minute (the worker keeps it in its schedule until then).
    task = huey.dequeue()
    assert huey.dequeue() is None
    assert task.eta > utcnow().replace(tzinfo=None) + timedelta(seconds=50)
    huey.execute(task, timestamp=task.eta)  # as the worker does when it is due
    db.session.expire_all()
    scrub = db.session.get(Scrub, scrub.id)
    assert scrub.status == "done" and scrub.done_at is not None
    assert [e.changes for e in forgetting_events()] == [
        {SCRUB_KEY: scrub.id, GONE_KEY: scrub.done_at.isoformat()}] * 3
    # The next erasure opens a new scrub: the done one covers nothing after it.
    app.config["SCRUB_DELAY_SECONDS"] = 0
    erase(client, make_customer(email="spaeter@laden.test"))
    assert db.session.scalar(select(db.func.count(Scrub.id))) == 2
    assert run_jobs() == 1


def test_a_worker_process_scrubs_the_files_and_one_left_by_a_dead_worker_is_finished(
        app, client, login_as):
    """A real `flask worker`: a scrub whose run died mid-way (held, heartbeat silent) and one
    whose task never reached the queue, which a fresh erasure joins, are both done."""
    login_as("admin")
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    gone = make_customer(email="verschwunden@laden.test", last_name="Quastenflosser")
    db.session.commit()
    # Two scrubs as a killed worker and a lost queue leave them.
    dead = Scrub(customers=1, status="running")
    lost = Scrub(customers=1, status="waiting", heartbeat_at=utcnow() - timedelta(minutes=5))
    db.session.add_all([dead, lost])
    db.session.commit()
    tracking.claim(Scrub, dead.id)
    db.session.execute(db.update(Scrub).where(Scrub.id == dead.id).values(
        heartbeat_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    app.config["SCRUB_DELAY_SECONDS"] = 1
    assert erase(client, gone).status_code == 302
    assert file_holds(database, "quastenflosser"), "a copy is left until the scrub"
    worker = start_worker(app)
    try:
        def all_done() -> bool:
            db.session.expire_all()
            return {s.status for s in db.session.scalars(select(Scrub))} == {"done"}

        wait_for(all_done, 60, "every scrub done")
    finally:
        stop(worker)
    scrubs = db.session.scalars(select(Scrub).order_by(Scrub.id)).all()
    assert len(scrubs) == 2 and all(s.done_at for s in scrubs)
    assert scrubs[0].runner_token is None and scrubs[0].interrupted_at is None
    (event,) = forgetting_events()
    assert event.changes == {SCRUB_KEY: lost.id, GONE_KEY: scrubs[1].done_at.isoformat()}
    assert not file_holds(database, "quastenflosser")
