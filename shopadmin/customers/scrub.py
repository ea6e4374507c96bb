"""The scrub that follows forgetting on SQLite, as a background job.

A forgotten customer's row is gone at the commit, but SQLite keeps older copies of it for a while:
the full-text indexes hold its terms until their segments merge, and the write-ahead log holds
earlier page versions (database.scrub_written_pages rebuilds the one and empties the other). At
millions of orders that takes seconds of CPU, so the request does not wait for it.

Each forgetting joins the scrub that is waiting (in its own transaction, which holds SQLite's
write lock, so it is in before a run claims that scrub or not at all) or opens one, whose run is
queued SCRUB_DELAY_SECONDS later: the erasures of that minute make one scrub. A scrub is a
tracked job (tracking.py): a worker that dies mid-scrub leaves it to the sweep, which queues it
again, and a scrub whose task was lost is found the same way (every worker sweeps as it starts).
When a run is done, the audit events of the erasures and purges it covers record when their
data was physically gone (`physically_gone_at`, beside the `scrub` that did it).

PostgreSQL keeps no such copies that the application could scrub (a deleted row's space is
reused by VACUUM), so there forgetting opens no scrub.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .. import tracking
from ..audit import AuditEvent
from ..database import UTCDateTime, json_value, scrub_written_pages, utcnow
from ..extensions import Model, db
from ..jobs import job
from ..tracking import TrackedJob

FORGETTING_ACTIONS = ("customer.erased", "customer.purged")
_OPENED = "scrub_opened"
# The audit event's key naming its scrub, and the one saying when the data was gone.
SCRUB_KEY, GONE_KEY = "scrub", "physically_gone_at"


class Scrub(TrackedJob, Model):
    """A scrub of SQLite's files after forgetting: waiting (erasures may still join it),
    running, done (`done_at`: from then on no copy of the data is left) or failed."""

    __tablename__ = "erasure_scrubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many customers' forgetting it covers.
    customers: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")


def needs_scrub() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def join_scrub(customers: int) -> int | None:
    """The scrub that will clear the copies of the customers being forgotten in this
    transaction: the waiting one, or a new one queued after the commit. None where the database
    keeps no copies. Flushes."""
    if not needs_scrub():
        return None
    waiting = db.session.scalar(select(Scrub.id).where(
        Scrub.status == "waiting", Scrub.runner_token.is_(None)).order_by(Scrub.id.desc()))
    if waiting is not None:
        joined = db.session.execute(
            update(Scrub).where(Scrub.id == waiting, Scrub.status == "waiting",
                                Scrub.runner_token.is_(None))
            .values(customers=Scrub.customers + customers)
            .execution_options(synchronize_session=False))
        if joined.rowcount == 1:  # type: ignore[attr-defined]  # DML: a CursorResult
            return waiting
    delay = delay_seconds()
    # Its heartbeat is the moment it is due: the sweep leaves it alone until then.
    scrub = Scrub(customers=customers, heartbeat_at=utcnow() + timedelta(seconds=delay))
    db.session.add(scrub)
    db.session.flush()
    db.session.info.setdefault(_OPENED, []).append(scrub.id)
    return scrub.id


def delay_seconds() -> float:
    return float(current_app.config.get("SCRUB_DELAY_SECONDS", 60))


def queue_opened_scrubs() -> None:
    """After the commit of a forgetting: queue the run of the scrubs it opened."""
    for scrub_id in db.session.info.pop(_OPENED, []):
        delay = delay_seconds()
        if delay > 0:
            scrub_task.schedule((scrub_id,), delay=delay)
        else:
            scrub_task(scrub_id)


@job()
def scrub_task(scrub_id: int) -> None:
    run_scrub(scrub_id)


def run_scrub(scrub_id: int) -> None:
    """Scrub the files, then record in the scrub and its events when the data was gone."""
    taken = tracking.take_up(Scrub, scrub_id, lambda found: found.status in ("done", "failed"))
    if taken is None:
        return
    scrub, token = taken
    scrub.status = "running"
    db.session.commit()
    with tracking.beating(Scrub, scrub_id, token), db.engine.connect() as connection:
        scrub_written_pages(connection)
    gone_at = utcnow()
    # Scrubs that failed before this one are covered by it too: it rebuilt the whole index.
    covered = [scrub_id, *db.session.scalars(select(Scrub.id).where(
        Scrub.id < scrub_id, Scrub.status == "failed"))]
    for covered_id in covered:
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.object_type == "customer",
                   AuditEvent.action.in_(FORGETTING_ACTIONS),
                   AuditEvent.changes[SCRUB_KEY].as_integer() == covered_id)
            .values(changes={SCRUB_KEY: covered_id, GONE_KEY: json_value(gone_at)})
            .execution_options(synchronize_session=False))
    db.session.execute(update(Scrub).where(Scrub.id.in_(covered[1:])).values(
        status="done", done_at=gone_at, error=""))
    tracking.release(Scrub, scrub_id, token, status="done", done_at=gone_at, error="")
    db.session.commit()


def _fail(scrub_id: int, error: str) -> None:
    db.session.execute(update(Scrub).where(Scrub.id == scrub_id).values(
        status="failed", error=error, runner_token=None))
    db.session.commit()


KIND = "scrub"
tracking.register_kind(KIND, tracking.Kind(
    Scrub, active=lambda: Scrub.status.in_(("waiting", "running")),
    resume=lambda scrub_id: scrub_task(scrub_id), fail=_fail))
