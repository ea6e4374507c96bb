"""Working a mailing (MailBatch) to its end: one runner at a time (a claimed token with a
heartbeat, taken over when silent), the due mails a group at a time through
delivery.deliver_group, the configured rate, a pause and reconnect when the server is in
trouble, and retries when they are due. Owns its commits: it runs in the worker."""

import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, update

from ..database import utcnow
from ..extensions import db
from .delivery import GROUP, ErrorKind, MailContext, Outcome, deliver_group
from .models import BatchStatus, MailBatch, MailLog, MailStatus
from .transport import Transport

CHUNK = 500
HEARTBEAT_SECONDS = 5
STALE_AFTER = timedelta(minutes=3)  # a batch whose runner was silent this long is taken over
MAX_INLINE_WAIT = 60  # seconds a run waits for retries itself before it hands back to the queue


def _claim_batch(batch_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    result = db.session.execute(
        update(MailBatch)
        .where(MailBatch.id == batch_id,
               or_(MailBatch.runner_token.is_(None), MailBatch.heartbeat_at < now - STALE_AFTER))
        .values(runner_token=token, heartbeat_at=now, status=BatchStatus.RUNNING)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def _heartbeat(batch_id: int, token: str) -> None:
    db.session.execute(
        update(MailBatch).where(MailBatch.id == batch_id, MailBatch.runner_token == token)
        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark_interrupted(batch_id: int) -> None:
    """Rows left in "sending" by a run that died: they may have gone out, so never again
    automatically."""
    db.session.execute(
        update(MailLog)
        .where(MailLog.batch_id == batch_id, MailLog.status == MailStatus.SENDING)
        .values(status=MailStatus.FAILED, error_kind=ErrorKind.INTERRUPTED.value,
                error="interrupted while sending", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
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
        .values(runner_token=None, status=status, last_error=error,
                finished_at=utcnow() if status == BatchStatus.DONE else None)
        .execution_options(synchronize_session=False)
    )
    if status == BatchStatus.DONE:
        statement = statement.where(~exists().where(
            MailLog.batch_id == batch_id,
            MailLog.status.in_([MailStatus.QUEUED, MailStatus.SENDING])))
    done = db.session.execute(statement).rowcount == 1
    db.session.commit()
    return done


def run_batch(batch_id: int, *, sleep: Callable[[float], None] = time.sleep) -> float | None:
    """Work a batch until every mail is sent or failed. Returns in how many seconds the job
    should come back (the server is unreachable, or retries are due later), else None."""
    token = _claim_batch(batch_id, utcnow())
    if token is None:
        # Another run holds the batch; come back later in case it stops before our mails.
        return float(MAX_INLINE_WAIT)
    _mark_interrupted(batch_id)
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

    last_beat = time.monotonic()
    pauses = 0
    with Transport() as transport:
        while True:
            due = _due_ids(batch_id, utcnow())
            if not due:
                retry_at = _next_retry_at(batch_id)
                if retry_at is None:
                    if _finish(batch_id, token, BatchStatus.DONE):
                        return None
                    continue
                wait = (retry_at - utcnow()).total_seconds()
                if wait > MAX_INLINE_WAIT:
                    _finish(batch_id, token, BatchStatus.WAITING)
                    return wait
                sleep(max(wait, 0.0))
                _heartbeat(batch_id, token)
                continue
            for start in range(0, len(due), GROUP):
                outcomes = deliver_group(due[start:start + GROUP], transport, context, pace)
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    _heartbeat(batch_id, token)
                    last_beat = time.monotonic()
                troubled = [i for i, o in outcomes.items() if o == Outcome.SERVER_TROUBLE]
                if not troubled:
                    pauses = 0
                    continue
                pauses += 1
                log = db.session.get(MailLog, troubled[0])
                if pauses >= context.max_attempts:
                    _finish(batch_id, token, BatchStatus.WAITING, log.error)
                    return context.backoff_max
                sleep(context.delay(pauses))
                _heartbeat(batch_id, token)
                break  # choose the due mails afresh: those that failed are due again later
