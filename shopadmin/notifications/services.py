"""Queueing mails: the password mail to one customer or to thousands, notices, retries.

Services flush and never commit. A mail is sent only after the transaction that logged it has
committed: the jobs that send are queued by an after-commit hook (see `_after_commit`), so a
rolled-back request sends nothing and a worker never looks for rows it cannot see yet.
"""

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from .. import tracking
from ..audit import record_event
from ..batching import batched
from ..customers.models import Customer
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..settings.services import get_settings
from .catalog import ACCOUNT_PASSWORD, TEMPLATES
from .models import BatchStatus, MailBatch, MailLog, MailStatus
from .rendering import mail_language

_PENDING = "notifications_after_commit"
CHUNK = 1000


def _after_commit(callback, *args) -> None:
    """Run callback(*args) once the current transaction has committed (dropped on rollback)."""
    db.session.info.setdefault(_PENDING, []).append((callback, args))


@event.listens_for(Session, "after_commit")
def _run_pending(session) -> None:
    pending = session.info.pop(_PENDING, [])
    for callback, args in pending:
        callback(*args)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    session.info.pop(_PENDING, None)


def _queue_delivery(log_id: int) -> None:
    from .tasks import deliver_mail_task

    deliver_mail_task(log_id)


def _queue_batch(batch_id: int) -> None:
    from .tasks import run_batch_task

    run_batch_task(batch_id)


def _live_customer(customer: Customer) -> None:
    if customer.deleted_at is not None:
        raise DomainError(_("This customer is in the trash and cannot receive mails."))


def log_mail(customer: Customer, key: str, *, actor=None, language: str | None = None,
             settings: dict | None = None) -> MailLog:
    """A queued mail to the customer, in their language (else the store's default)."""
    if key not in TEMPLATES:
        raise KeyError(key)
    _live_customer(customer)
    language = language or mail_language(customer.language, settings or get_settings())
    log = MailLog(customer_id=customer.id, actor_id=actor.id if actor else None,
                  recipient=customer.email, template_key=key, language=language,
                  status=MailStatus.QUEUED, attempts=0)
    db.session.add(log)
    db.session.flush()
    return log


def queue_notification(customer: Customer, key: str, *, actor=None,
                       language: str | None = None) -> MailLog:
    """Log a mail to one customer and send it from the worker after the commit."""
    log = log_mail(customer, key, actor=actor, language=language)
    _after_commit(_queue_delivery, log.id)
    return log


def send_password_mail(customer: Customer, actor, *, in_background: bool = True) -> MailLog:
    """The Account password mail to one customer. With in_background=False the caller sends it
    after the commit itself (tasks.send_now), to tell the staff member at once how it went."""
    log = log_mail(customer, ACCOUNT_PASSWORD, actor=actor)
    record_event("password_mail", "customer", customer.id, actor=actor,
                 changes={"language": log.language})
    if in_background:
        _after_commit(_queue_delivery, log.id)
    return log


def _live_recipients(customer_ids: list[int]) -> list[tuple[int, str, str | None]]:
    found: list[tuple[int, str, str | None]] = []
    for chunk in batched(customer_ids, CHUNK):
        found.extend(tuple(row) for row in db.session.execute(
            db.select(Customer.id, Customer.email, Customer.language)
            .where(Customer.id.in_(chunk), Customer.deleted_at.is_(None))
        ))
    found.sort()
    return found


def language_breakdown(customer_ids: Iterable[int] | Select) -> dict:
    """What a mailing to these customers will be: {"languages": {mail language: count},
    "fallback": {customer language: count}} (customers whose language the store does not
    write mails in, who get the store's default language; None for those without one),
    "default": the store's default language, "total"}."""
    from sqlalchemy import func

    settings = get_settings()
    ids = customer_ids if isinstance(customer_ids, Select) else list(customer_ids)
    counts: dict[str | None, int] = {}
    chunks = [ids] if isinstance(ids, Select) else batched(ids, CHUNK)
    for chunk in chunks:
        query = (db.select(Customer.language, func.count(Customer.id))
                 .where(Customer.id.in_(chunk), Customer.deleted_at.is_(None))
                 .group_by(Customer.language))
        for language, count in db.session.execute(query):
            counts[language] = counts.get(language, 0) + count
    languages: dict[str, int] = {}
    fallback: dict[str | None, int] = {}
    for language, count in sorted(counts.items(), key=lambda item: -item[1]):
        mail = mail_language(language, settings)
        languages[mail] = languages.get(mail, 0) + count
        if mail != language:
            fallback[language] = count
    return {"languages": languages, "fallback": fallback, "total": sum(counts.values()),
            "default": mail_language(None, settings)}


# Within this time a colleague's send of the same mail to the same customers is the same
# mailing, not a second one.
SAME_SEND_WINDOW = timedelta(minutes=5)


def _existing_send(submission: str | None, digest: str) -> MailBatch | None:
    """The mailing this send repeats: the same form submitted again, or the same mail to the
    same customers started moments ago."""
    if submission:
        batch = db.session.scalar(db.select(MailBatch).filter_by(submission=submission))
        if batch is not None:
            return batch
    return db.session.scalar(db.select(MailBatch).where(
        MailBatch.digest == digest, MailBatch.created_at > utcnow() - SAME_SEND_WINDOW)
        .order_by(MailBatch.id.desc()).limit(1))


def _new_batch(actor, template_key: str, origin: str, origin_id: int | None, total: int,
               submission: str | None, digest: str, **described) -> MailBatch:
    batch = MailBatch(created_by_id=actor.id if actor else None, template_key=template_key,
                      origin=origin, origin_id=origin_id, status=BatchStatus.QUEUED,
                      total=total, submission=submission or None, digest=digest, **described)
    tracking.queued(batch)
    db.session.add(batch)
    db.session.flush()
    record_event("password_mails", "mail_batch", batch.id, actor=actor,
                 changes={"count": total, "origin": origin, "origin_id": origin_id})
    _after_commit(_queue_batch, batch.id)
    return batch


def send_password_mails(customer_ids: Iterable[int], actor, *, origin: str = "selection",
                        origin_id: int | None = None, template_key: str = ACCOUNT_PASSWORD,
                        submission: str | None = None) -> MailBatch:
    """Start a batch (a campaign) that sends the mail to each of these customers once.

    `customer_ids` are the chosen ones (the selected rows); unknown, deleted and repeated ids
    are left out. The same send submitted again (`submission`, the form's one-time key), or
    the same mail to the same customers within SAME_SEND_WINDOW, gives the mailing it
    repeats. The worker starts after the commit."""
    unique_ids = sorted({int(customer_id) for customer_id in customer_ids})
    digest = _digest(template_key, "ids", ",".join(map(str, unique_ids)))
    if (existing := _existing_send(submission, digest)) is not None:
        return existing
    recipients = _live_recipients(unique_ids)
    if not recipients:
        raise DomainError(_("None of the chosen customers can receive a mail."))
    settings = get_settings()
    batch = _new_batch(actor, template_key, origin, origin_id, len(recipients), submission,
                       digest)
    now = utcnow()
    rows = [
        {"batch_id": batch.id, "customer_id": customer_id, "recipient": email,
         "actor_id": batch.created_by_id, "template_key": template_key,
         "language": mail_language(language, settings), "status": MailStatus.QUEUED,
         "attempts": 0, "error": "", "error_kind": "", "is_test": False,
         "created_at": now, "updated_at": now}
        for customer_id, email, language in recipients
    ]
    for chunk in batched(rows, CHUNK):
        db.session.execute(insert(MailLog), chunk)
    return batch


def send_password_mails_described(actor, *, query: str | None = None,
                                  import_id: int | None = None, estimate: int = 0,
                                  template_key: str = ACCOUNT_PASSWORD,
                                  submission: str | None = None) -> MailBatch:
    """Start a mailing to everyone the customer list's search `query` matches, or everyone
    the import `import_id` created: described, not listed; the worker adds the recipients
    (recipients.py), so the request returns at once whatever their number."""
    origin, origin_id = ("filter", None) if query is not None else ("import", import_id)
    digest = _digest(template_key, origin, query if query is not None else str(import_id))
    if (existing := _existing_send(submission, digest)) is not None:
        return existing
    if not estimate:
        raise DomainError(_("None of the chosen customers can receive a mail."))
    return _new_batch(actor, template_key, origin, origin_id, estimate, submission, digest,
                      query=query, recipients_pending=True)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def retry_mail(log: MailLog, actor) -> None:
    """Queue a failed mail again (a fresh link, the customer's current address)."""
    if log.status != MailStatus.FAILED or log.is_test:
        raise DomainError(_("Only a failed mail can be sent again."))
    if log.customer_id is None:
        raise DomainError(_("The customer of this mail no longer exists."))
    _requeue(db.select(MailLog.id).where(MailLog.id == log.id))
    record_event("mail_retry", "mail_log", log.id, actor=actor)
    if log.batch_id:
        _restart_batch(log.batch_id)
    else:
        _after_commit(_queue_delivery, log.id)


def retry_failed_mails(batch: MailBatch, actor) -> int:
    """Queue every failed mail of the batch again; returns how many."""
    failed = db.select(MailLog.id).where(MailLog.batch_id == batch.id,
                                         MailLog.status == MailStatus.FAILED,
                                         MailLog.customer_id.is_not(None))
    count = _requeue(failed)
    if count:
        record_event("mail_retry", "mail_batch", batch.id, actor=actor, changes={"count": count})
        _restart_batch(batch.id)
    return count


def _requeue(ids: Select) -> int:
    result = db.session.execute(
        update(MailLog).where(MailLog.id.in_(ids), MailLog.status == MailStatus.FAILED)
        .values(status=MailStatus.QUEUED, attempts=0, next_attempt_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult


def _restart_batch(batch_id: int) -> None:
    db.session.execute(
        update(MailBatch)
        .where(MailBatch.id == batch_id, MailBatch.status != BatchStatus.RUNNING)
        .values(status=BatchStatus.QUEUED, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    _after_commit(_queue_batch, batch_id)


def customers_without_password(batch: MailBatch) -> Select:
    """The batch's customers who have not set a password since it was started."""
    return (
        db.select(Customer.id)
        .join(MailLog, MailLog.customer_id == Customer.id)
        .where(MailLog.batch_id == batch.id, Customer.deleted_at.is_(None),
               (Customer.password_set_at.is_(None))
               | (Customer.password_set_at < batch.created_at))
    )


def resend_to_customers_without_password(batch: MailBatch, actor) -> MailBatch:
    """A new batch with a fresh link for everyone of this batch who has not set a password."""
    ids = list(db.session.scalars(customers_without_password(batch)))
    if not ids:
        raise DomainError(_("Every customer of this mailing has set a password."))
    return send_password_mails(ids, actor, origin="resend", origin_id=batch.id,
                               template_key=batch.template_key)
