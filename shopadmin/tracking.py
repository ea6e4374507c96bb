"""Tracked jobs: the one mechanism by which imports, exports, bulk actions, mailings and
erasure scrubs survive a worker's death.

Each kind keeps its own table (an import's resume point, a mailing's recipients) with the
columns of `TrackedJob`, and registers itself with `register_kind`. A run `take_up`s its job
(`claim`: an atomic update that only one worker wins; then the job loaded, or let go at once
when it is gone or finished), beats its heartbeat every few seconds from a
thread of its own while it works (`beating`), and settles it with `release`. `sweep`, run by
every worker every few seconds, finds the jobs that should be running but whose heartbeat has
stopped: it marks them interrupted (the pages say "interrupted, resuming") and queues them
again, or, after MAX_ATTEMPTS interruptions in a row, fails them with their error. A worker told
to stop (SIGTERM, SIGINT) sets `stopping`: runs checkpoint at their next batch and `hand_back`
their job, so a restarted worker resumes it at once.
"""

import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from flask import current_app
from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db

log = logging.getLogger(__name__)

# Defaults of the configuration (SHOPADMIN_JOB_BEAT_SECONDS, ..._STALE_SECONDS,
# ..._SWEEP_SECONDS): a run beats every 3 s, a job silent for 15 s is taken for dead, and the
# sweep looks every 5 s, so a dead worker's job is queued again within 20 s.
BEAT_SECONDS = 3
STALE_AFTER = timedelta(seconds=15)
SWEEP_SECONDS = 5
MAX_ATTEMPTS = 3
# Set in a worker that has been told to stop: runs hand their jobs back at the next batch.
stopping = threading.Event()


class HandedBack(Exception):  # noqa: N818  (a signal to unwind, not an error)
    """Raised inside a run that stopped at a checkpoint because the worker is stopping."""


class TrackedJob:
    """The columns every tracked job has (a declarative mixin)."""

    # The run that holds the job (a random token), and the last sign of its life. A queued
    # job's heartbeat is the time it was queued.
    runner_token: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Runs that ended without settling the job (a worker died), counted until one settles it.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the sweep last found the job's worker gone; cleared when a run claims it.
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    if TYPE_CHECKING:  # what every kind's model has beside (not mapped by this mixin)
        id: Mapped[int]
        __tablename__: str

    @property
    def resuming(self) -> bool:
        """Found interrupted and not yet taken up again by a worker."""
        return self.interrupted_at is not None


@dataclass(frozen=True)
class Kind:
    model: type[TrackedJob]
    # Whether a job of this kind should be running (a column condition).
    active: Callable[[], object]
    # Queue the job's run again (it resumes where its committed work ends).
    resume: Callable[[int], None]
    # Settle the job as failed with this error (commits).
    fail: Callable[[int, str], None]


KINDS: dict[str, Kind] = {}


def register_kind(name: str, kind: Kind) -> None:
    KINDS[name] = kind


def start_again(name: str, job_id: int, **values) -> None:
    """Staff start a job that failed (its worker died MAX_ATTEMPTS times) again: its
    interruptions forgotten, `values` (its kind's active state) set, queued. Commits."""
    kind = KINDS[name]
    db.session.execute(
        update(kind.model).where(kind.model.id == job_id)
        .values(runner_token=None, attempts=0, interrupted_at=None, heartbeat_at=utcnow(),
                **values).execution_options(synchronize_session=False))
    db.session.commit()
    kind.resume(job_id)


def gave_up_message() -> str:
    from flask_babel import gettext as _

    return _("The worker stopped %(count)d times while working on this, so it was given up. "
             "Start it again once the cause is found.", count=MAX_ATTEMPTS)


def queued(job: TrackedJob) -> None:
    """Mark a job as just queued (its heartbeat starts now; no run holds it)."""
    job.heartbeat_at, job.runner_token, job.interrupted_at = utcnow(), None, None


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config.get("JOB_STALE_SECONDS",
                                                    STALE_AFTER.total_seconds()))


def claim(model: type[TrackedJob], job_id: int, now: datetime | None = None) -> str | None:
    """Take the job for this run, unless a live run holds it; returns the run's token. Commits."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    result = db.session.execute(
        update(model).where(model.id == job_id, or_(model.runner_token.is_(None),
                                                    model.heartbeat_at < now - stale_after()))
        .values(runner_token=token, heartbeat_at=now, interrupted_at=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]  # DML: a CursorResult


Job = TypeVar("Job", bound=TrackedJob)


def take_up(model: type[Job], job_id: int,
            finished: Callable[[Job], bool]) -> tuple[Job, str] | None:
    """Claim the job and load it: (the job, the run's token), or None when there is nothing to
    do: a live run holds it, or it is gone or finished (then let go at once). Commits."""
    token = claim(model, job_id)
    if token is None:
        return None
    found = db.session.get(model, job_id)
    if found is None or finished(found):
        release(model, job_id, token)
        db.session.commit()
        return None
    return found, token


def release(model: type[TrackedJob], job_id: int, token: str, **values) -> bool:
    """Settle the job this run holds (with `values`, its final state): it is no longer held,
    and its interruptions are forgotten. Flushes; the caller commits."""
    result = db.session.execute(
        update(model).where(model.id == job_id, model.runner_token == token)
        .values(runner_token=None, attempts=0, interrupted_at=None, **values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]  # DML: a CursorResult


def hand_back(name: str, job_id: int, token: str) -> None:
    """A stopping worker's run checkpointed: free the job and queue it again at once (the
    queue keeps it for the next worker). Commits."""
    kind = KINDS[name]
    db.session.execute(
        update(kind.model).where(kind.model.id == job_id, kind.model.runner_token == token)
        .values(runner_token=None, heartbeat_at=utcnow(), interrupted_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    log.warning("%s %s handed back: the worker is stopping", name, job_id)
    kind.resume(job_id)


def holds(model: type[TrackedJob], job_id: int, token: str) -> bool:
    """Whether this run still holds its job. A run whose heartbeat was late (a machine under
    load, a paused process) may find that the sweep gave its job to another run."""
    return db.session.scalar(db.select(model.runner_token).where(model.id == job_id)) == token


def still_holds(model: type[TrackedJob], job_id: int, token: str) -> bool:
    """In the caller's transaction, once it has written (SQLite then holds the write lock):
    whether this run still holds its job. The job's row is locked until the commit (FOR UPDATE
    on PostgreSQL; SQLite has one writer), so work committed in the same transaction is the
    holder's own: another run's take-over (claim, sweep) came first and this returns False, or
    it waits for the commit and the work it then finds is done."""
    holder = db.session.scalar(
        select(model.runner_token).where(model.id == job_id).with_for_update())
    return holder == token


def checkpoint(name: str, job_id: int, token: str) -> None:
    """At a point where the run's work so far is committed: hand the job back if the worker
    is stopping, and stop if another run holds the job now (both raise HandedBack)."""
    if stopping.is_set():
        hand_back(name, job_id, token)
        raise HandedBack()
    if not holds(KINDS[name].model, job_id, token):
        log.warning("%s %s: taken over by another run (this one's heartbeat was late); "
                    "this run stops", name, job_id)
        raise HandedBack()


@contextmanager
def beating(model: type[TrackedJob], job_id: int, token: str):
    """Beat the job's heartbeat every BEAT_SECONDS from a thread with a connection of its own,
    while the block runs (a long statement or a wait for the mail server is no silence)."""
    done = threading.Event()
    engine = db.engine
    seconds = current_app.config.get("JOB_BEAT_SECONDS", BEAT_SECONDS)

    def beat() -> None:
        while not done.wait(seconds):
            try:
                with engine.begin() as connection:
                    connection.execute(
                        update(model).where(model.id == job_id, model.runner_token == token)
                        .values(heartbeat_at=utcnow()))
            except Exception:  # noqa: BLE001  (a missed beat; the next one tries again)
                log.warning("heartbeat of %s %s failed", model.__tablename__, job_id,
                            exc_info=True)

    thread = threading.Thread(target=beat, name=f"beat-{model.__tablename__}-{job_id}",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def sweep(now: datetime | None = None) -> list[tuple[str, int]]:
    """Queue again every job that should be running but whose heartbeat has stopped; fail
    those interrupted MAX_ATTEMPTS times in a row. Commits. Returns what it queued."""
    now = now or utcnow()
    cutoff = now - stale_after()
    resumed: list[tuple[str, int]] = []
    for name, kind in KINDS.items():
        model = kind.model
        stale = db.session.execute(
            db.select(model.id, model.runner_token, model.attempts)
            .where(kind.active(), or_(model.heartbeat_at.is_(None),
                                      model.heartbeat_at < cutoff))).all()
        for job_id, runner, attempts in stale:
            # A run held it and died: an interruption. A job never taken up (its task lost
            # with a queue, or waiting behind others) is only queued again.
            died = runner is not None
            claimed = db.session.execute(
                update(model).where(model.id == job_id, or_(model.heartbeat_at.is_(None),
                                                            model.heartbeat_at < cutoff))
                .values(heartbeat_at=now, runner_token=None,
                        attempts=model.attempts + (1 if died else 0),
                        interrupted_at=now if died else model.interrupted_at)
                .execution_options(synchronize_session=False))
            db.session.commit()
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # DML: a CursorResult
                continue  # another worker's sweep took it
            if died and attempts + 1 >= MAX_ATTEMPTS:
                log.error("%s %s: its worker died %d times; failed", name, job_id,
                          attempts + 1)
                kind.fail(job_id, gave_up_message())
                continue
            if died:
                log.warning("%s %s: worker gone, queued again", name, job_id)
            kind.resume(job_id)
            resumed.append((name, job_id))
    return resumed
