"""Working a mailing (MailBatch) to its end: a tracked job (one runner at a time, resumed by
the sweep when its worker dies, handed back when the worker stops; see tracking.py), its
recipients added first when the mailing was described by a search or an import, then the due
mails a group at a time through delivery.deliver_group, the configured rate, a pause and
reconnect when the server is in trouble, and retries when they are due. Owns its commits: it
runs in the worker."""

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import exists, or_, update

from .. import tracking
from ..batching import batched
from ..database import utcnow
from ..extensions import db
from .delivery import GROUP, SETTLE_EVERY, ErrorKind, MailContext, Outcome, deliver_group
from .models import BatchStatus, MailBatch, MailLog, MailStatus
from .recipients import add_recipients
from .transport import Transport

CHUNK = 500
KIND = "mailing"
MAX_INLINE_WAIT = 60  # seconds a run waits for retries itself before it hands back to the queue


def _mark_interrupted(batch_id: int) -> None:
    """Rows left in "sending" by a run that died. A group is claimed at one moment and its
    mails are handed over in id order, committed SETTLE_EVERY at a time: of each claim, the
    lowest SETTLE_EVERY ids still "sending" may have gone out (failed as interrupted, never
    sent again automatically); the others were never handed over and go back to the queue."""
    left = db.session.execute(
        db.select(MailLog.id, MailLog.updated_at)
        .where(MailLog.batch_id == batch_id, MailLog.status == MailStatus.SENDING)
        .order_by(MailLog.id)).all()
    in_doubt: dict[object, list[int]] = {}
    for log_id, claimed_at in left:
        claim = in_doubt.setdefault(claimed_at, [])
        if len(claim) < SETTLE_EVERY:
            claim.append(log_id)
    doubtful = {log_id for claim in in_doubt.values() for log_id in claim}
    untouched = [log_id for log_id, _claimed_at in left if log_id not in doubtful]
    # (Each change only where the row is still "sending": a run whose heartbeat was late may
    # settle its mails in the meantime, and what it records is what happened.)
    if doubtful:
        db.session.execute(
            update(MailLog).where(MailLog.id.in_(doubtful), MailLog.status == MailStatus.SENDING)
            .values(status=MailStatus.FAILED, error_kind=ErrorKind.INTERRUPTED.value,
                    error="interrupted while sending", next_attempt_at=None)
            .execution_options(synchronize_session=False))
    if untouched:
        db.session.execute(
            update(MailLog).where(MailLog.id.in_(untouched), MailLog.status == MailStatus.SENDING)
            .values(status=MailStatus.QUEUED, attempts=MailLog.attempts - 1)
            .execution_options(synchronize_session=False))
    db.session.commit()


def _due_ids(batch_id: int, now: datetime) -> list[int]:
    return list(db.session.scalars(
        db.select(MailLog.id)
        .where(MailLog.batch_id == batch_id, MailLog.status == MailStatus.QUEUED,
               or_(MailLog.next_attempt_at.is_(None), MailLog.next_attempt_at <= now))
        .order_by(MailLog.id).limit(CHUNK)
    ))


def _next_retry_at(batch_id: int) -> datetime | None:
    return db.session.scalar(
        db.select(db.func.min(MailLog.next_attempt_at))
        .where(MailLog.batch_id == batch_id, MailLog.status == MailStatus.QUEUED)
    )


def _finish(batch_id: int, token: str, status: BatchStatus, error: str = "") -> bool:
    """Release the batch; as done only while no mail of it is queued (a retry may just have
    queued some)."""
    statement = (
        update(MailBatch).where(MailBatch.id == batch_id, MailBatch.runner_token == token)
        .values(runner_token=None, attempts=0, interrupted_at=None, status=status,
                last_error=error,
                finished_at=utcnow() if status == BatchStatus.DONE else None)
        .execution_options(synchronize_session=False)
    )
    if status == BatchStatus.DONE:
        statement = statement.where(~exists().where(
            MailLog.batch_id == batch_id,
            MailLog.status.in_([MailStatus.QUEUED, MailStatus.SENDING])))
    done = db.session.execute(statement).rowcount == 1  # type: ignore[attr-defined]  # DML: a CursorResult
    db.session.commit()
    return done


def run_batch(batch_id: int, *, sleep: Callable[[float], None] = time.sleep) -> float | None:
    """Work a batch until every mail is sent or failed. Returns in how many seconds the job
    should come back (the server is unreachable, or retries are due later), else None."""
    # None: a live run holds it (the sweep takes it up should that run die), or it is done.
    taken = tracking.take_up(MailBatch, batch_id, lambda found: found.status == BatchStatus.DONE)
    if taken is None:
        return None
    batch, token = taken
    batch.status = BatchStatus.RUNNING
    db.session.commit()
    try:
        with tracking.beating(MailBatch, batch_id, token):
            add_recipients(batch, token)
            _mark_interrupted(batch_id)
            return _send_due(batch_id, token, sleep)
    except tracking.HandedBack:
        return None


def _send_due(batch_id: int, token: str, sleep: Callable[[float], None]) -> float | None:
    context = MailContext.load()
    rate = float(context.settings.get("mail_rate_per_minute") or 0)
    interval = 60.0 / rate if rate > 0 else 0.0
    next_slot = time.monotonic()

    def pace() -> None:
        """Keep to the configured rate (mails per minute; 0: as fast as the server takes)."""
        nonlocal next_slot
        if interval:
            next_slot = max(next_slot, time.monotonic())
            sleep(max(next_slot - time.monotonic(), 0.0))
            next_slot += interval

    pauses = 0
    with Transport() as transport:
        while True:
            due = _due_ids(batch_id, utcnow())
            if not due:
                retry_at = _next_retry_at(batch_id)
                if retry_at is None:
                    if _finish(batch_id, token, BatchStatus.DONE):
                        return None
                    # Not done: a retry queued mails meanwhile, or another run holds the
                    # mailing now (then that run finishes it).
                    tracking.checkpoint(KIND, batch_id, token)
                    continue
                wait = (retry_at - utcnow()).total_seconds()
                if wait > MAX_INLINE_WAIT:
                    _finish(batch_id, token, BatchStatus.WAITING)
                    return wait
                sleep(max(wait, 0.0))
                continue
            for group in batched(due, GROUP):
                outcomes = deliver_group(
                    group, transport, context, pace,
                    still_ours=lambda: tracking.still_holds(MailBatch, batch_id, token))
                tracking.checkpoint(KIND, batch_id, token)
                troubled = [i for i, o in outcomes.items() if o == Outcome.SERVER_TROUBLE]
                if not troubled:
                    pauses = 0
                    continue
                pauses += 1
                error = db.session.get_one(MailLog, troubled[0]).error
                _show_error_on_queued(batch_id, error)
                if pauses >= context.max_attempts:
                    _finish(batch_id, token, BatchStatus.WAITING, error)
                    return context.backoff_max
                sleep(context.delay(pauses))
                break  # choose the due mails afresh: those that failed are due again later


def _show_error_on_queued(batch_id: int, error: str) -> None:
    """While the server is in trouble, every mail still waiting shows why."""
    db.session.execute(
        update(MailLog).where(MailLog.batch_id == batch_id, MailLog.status == MailStatus.QUEUED)
        .values(error=error, error_kind=ErrorKind.SERVER.value)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _fail(batch_id: int, error: str) -> None:
    """Given up: waiting for staff to start it again (no run is scheduled)."""
    db.session.execute(update(MailBatch).where(MailBatch.id == batch_id).values(
        status=BatchStatus.WAITING, last_error=error, runner_token=None))
    db.session.commit()


def start_again(batch: MailBatch) -> None:
    """Send a waiting mailing's due mails now (commits)."""
    tracking.start_again(KIND, batch.id, status=BatchStatus.QUEUED, last_error="")


tracking.register_kind(KIND, tracking.Kind(
    MailBatch, active=lambda: MailBatch.status.in_((BatchStatus.QUEUED, BatchStatus.RUNNING)),
    resume=lambda batch_id: _queue_again(batch_id), fail=_fail))


def _queue_again(batch_id: int) -> None:
    from .tasks import run_batch_task

    run_batch_task(batch_id)
