"""Sending logged mails: one (deliver_logged_mail) or a whole batch (run_batch).

Each mail's state is committed around its hand-over: "sending" (with its new link) before, "sent"
or what went wrong after. A batch does this for a group of mails at a time (GROUP): one commit
claims and prepares the group, one settles it, so that the database is not the bottleneck of a
mailing. A row found in "sending" by a later run belongs to a run that died mid-send; it may
have gone out, so it is marked failed ("interrupted") and is never sent again automatically.
Together with one row per customer and batch, no customer gets a batch's mail twice, whatever
happens to the worker. These functions own their commits: they run in the worker (or, for a
single mail, after the request's own commit).
"""

import enum
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr

from flask import current_app
from sqlalchemy import exists, or_, select, update

from ..account import tokens
from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..settings.services import get_settings
from .catalog import LINK_TEMPLATES, TemplateText, get_template
from .models import BatchStatus, MailBatch, MailLog, MailStatus
from .rendering import format_expires, recipient_values, render_mail
from .transport import (
    OutgoingMail,
    PermanentFailure,
    RecipientTrouble,
    ServerTrouble,
    Transport,
    UncertainDelivery,
)

CHUNK = 500
GROUP = 25  # mails claimed, prepared and settled together in a batch
HEARTBEAT_SECONDS = 5
STALE_AFTER = timedelta(minutes=3)  # a batch whose runner was silent this long is taken over
MAX_INLINE_WAIT = 60  # seconds a run waits for retries itself before it hands back to the queue


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"          # queued again for later
    FAILED = "failed"
    SERVER_TROUBLE = "server"
    SKIPPED = "skipped"      # not ours to send (no longer queued)


class ErrorKind(enum.StrEnum):
    SERVER = "server"
    RECIPIENT = "recipient"
    REFUSED = "refused"
    UNCERTAIN = "uncertain"
    INTERRUPTED = "interrupted"
    NO_CUSTOMER = "no_customer"


@dataclass
class MailContext:
    """What every mail of one run shares: settings, sender, templates, retry policy."""

    settings: dict
    max_attempts: int
    backoff: float
    backoff_max: float
    templates: dict[tuple[str, str], TemplateText] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "MailContext":
        config = current_app.config
        return cls(settings=get_settings(), max_attempts=int(config["MAIL_RETRY_ATTEMPTS"]),
                   backoff=float(config["MAIL_RETRY_BACKOFF_SECONDS"]),
                   backoff_max=float(config["MAIL_RETRY_BACKOFF_MAX_SECONDS"]))

    @property
    def sender(self) -> str:
        return formataddr((self.settings["shop_name"], self.settings["sender_address"]))

    def template(self, key: str, language: str) -> TemplateText:
        if (key, language) not in self.templates:
            self.templates[key, language] = get_template(key, language)
        return self.templates[key, language]

    def delay(self, attempt: int) -> float:
        """Exponential back-off: backoff, 2x, 4x, ... up to backoff_max seconds."""
        return min(self.backoff * 2 ** max(attempt - 1, 0), self.backoff_max)


def _claim(log_id: int, now: datetime) -> bool:
    """Move a queued mail to "sending"; False if it is not queued (sent, failed, or taken)."""
    result = db.session.execute(
        update(MailLog)
        .where(MailLog.id == log_id, MailLog.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENDING, attempts=MailLog.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _prepare(log: MailLog, customer: Customer, context: MailContext,
             now: datetime) -> OutgoingMail:
    """Render the mail for the customer as they are now; a link mail gets a fresh link."""
    values = recipient_values(customer, context.settings)
    if log.template_key in LINK_TEMPLATES:
        issued = tokens.issue_token(customer, purpose=LINK_TEMPLATES[log.template_key],
                                    language=log.language, now=now)
        log.token_id = issued.row.id
        values["reset_link"] = tokens.reset_link(issued.token, context.settings["shop_url"])
        values["expires"] = format_expires(issued.row.expires_at, log.language)
    log.recipient = customer.email
    rendered = render_mail(context.template(log.template_key, log.language), values)
    return OutgoingMail(context.sender, customer.email, rendered.subject, rendered.text,
                        rendered.html, log.id)


def _fail(log: MailLog, kind: ErrorKind, error: str, *, retry: bool, context: MailContext,
          now: datetime) -> Outcome:
    log.error = error[:2000]
    log.error_kind = kind.value
    if retry and log.attempts < context.max_attempts:
        log.status = MailStatus.QUEUED
        log.next_attempt_at = now + timedelta(seconds=context.delay(log.attempts))
        return Outcome.RETRY
    log.status = MailStatus.FAILED
    log.next_attempt_at = None
    return Outcome.FAILED


def deliver(log_id: int, transport: Transport, context: MailContext,
            clock: Callable[[], datetime] = utcnow) -> Outcome:
    """Send one queued mail through the open transport, committing before and after."""
    now = clock()
    if not _claim(log_id, now):
        db.session.rollback()
        return Outcome.SKIPPED
    log = db.session.get(MailLog, log_id)
    customer = db.session.get(Customer, log.customer_id) if log.customer_id else None
    if customer is None or customer.deleted_at is not None:
        outcome = _fail(log, ErrorKind.NO_CUSTOMER, "customer deleted", retry=False,
                        context=context, now=now)
        db.session.commit()
        return outcome
    outgoing = _prepare(log, customer, context, now)
    db.session.commit()

    outcome = _hand_over(log, outgoing, transport, context, now, clock)
    db.session.commit()
    return outcome


def _hand_over(log: MailLog, outgoing: OutgoingMail, transport: Transport, context: MailContext,
               now: datetime, clock: Callable[[], datetime]) -> Outcome:
    """Send one prepared mail and set its log to what became of it (not committed)."""
    try:
        transport.send(outgoing)
    except ServerTrouble as error:
        _fail(log, ErrorKind.SERVER, str(error), retry=True, context=context, now=now)
        return Outcome.SERVER_TROUBLE
    except RecipientTrouble as error:
        return _fail(log, ErrorKind.RECIPIENT, str(error), retry=True, context=context, now=now)
    except PermanentFailure as error:
        return _fail(log, ErrorKind.REFUSED, str(error), retry=False, context=context, now=now)
    except UncertainDelivery as error:
        return _fail(log, ErrorKind.UNCERTAIN, str(error), retry=False, context=context,
                     now=now)
    log.status = MailStatus.SENT
    log.sent_at = clock()
    log.error = ""
    log.error_kind = ""
    log.next_attempt_at = None
    return Outcome.SENT


def deliver_group(log_ids: list[int], transport: Transport, context: MailContext,
                  pace: Callable[[], None] = lambda: None,
                  clock: Callable[[], datetime] = utcnow) -> dict[int, Outcome]:
    """Send queued mails of a batch as deliver() does, a group at a time: one commit claims
    and prepares them all ("sending", each with its link), one settles them. When the server
    is in trouble, the mails of the group not yet handed over go back to the queue untouched."""
    now = clock()
    result = db.session.execute(
        update(MailLog)
        .where(MailLog.id.in_(log_ids), MailLog.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENDING, attempts=MailLog.attempts + 1, updated_at=now)
        .returning(MailLog.id).execution_options(synchronize_session=False))
    claimed = set(result.scalars())
    outcomes = {log_id: Outcome.SKIPPED for log_id in log_ids if log_id not in claimed}
    logs = {log.id: log for log in db.session.scalars(
        select(MailLog).where(MailLog.id.in_(claimed))
        .execution_options(populate_existing=True))}
    customers = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_({log.customer_id for log in logs.values()})))}
    ready: list[tuple[MailLog, OutgoingMail]] = []
    for log_id in sorted(claimed):
        log = logs[log_id]
        customer = customers.get(log.customer_id)
        if customer is None or customer.deleted_at is not None:
            outcomes[log_id] = _fail(log, ErrorKind.NO_CUSTOMER, "customer deleted",
                                     retry=False, context=context, now=now)
        else:
            ready.append((log, _prepare(log, customer, context, now)))
    db.session.commit()
    # Load the committed rows back in one query (a commit expires them).
    list(db.session.scalars(select(MailLog).where(MailLog.id.in_(claimed))))
    trouble = False
    for log, outgoing in ready:
        if trouble:
            log.status = MailStatus.QUEUED
            log.attempts -= 1
            outcomes[log.id] = Outcome.SKIPPED
            continue
        pace()
        outcomes[log.id] = _hand_over(log, outgoing, transport, context, now, clock)
        trouble = outcomes[log.id] == Outcome.SERVER_TROUBLE
    db.session.commit()
    return outcomes


def deliver_logged_mail(log_id: int) -> float | None:
    """Send one mail that is not part of a batch. Returns in how many seconds to try it again,
    or None when nothing is left to do."""
    context = MailContext.load()
    with Transport() as transport:
        outcome = deliver(log_id, transport, context)
    if outcome in (Outcome.RETRY, Outcome.SERVER_TROUBLE):
        log = db.session.get(MailLog, log_id)
        if log.status == MailStatus.QUEUED and log.next_attempt_at is not None:
            return max((log.next_attempt_at - utcnow()).total_seconds(), 0.0)
    return None


# -- batches ---------------------------------------------------------------------------------

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
