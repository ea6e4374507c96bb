"""How long what is not the register itself is kept: the store settings' retention periods,
applied by a daily job.

- `upload_keep_days`: uploaded worksheets, and the rejected rows and preview samples of their
  imports (a warned row stays while its customer does: the customer page lists it);
- `spent_keep_days`: password links used, replaced or expired, idempotency keys of the API with
  the answers they replay, and the outbox copies of mails.

Customers themselves leave through customers/forget.py (the trash purge runs daily as well).
"""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import delete, or_, select

from .account.models import PasswordResetToken
from .database import utcnow
from .extensions import db
from .imports.models import ImportJob, ImportRowResult, ImportStatus
from .imports.services import delete_upload
from .jobs import job
from .notifications.models import OutboxMessage
from .orders.models import IdempotentRequest
from .settings.services import get_setting

FINISHED = {ImportStatus.READY, ImportStatus.FAILED, ImportStatus.UNDONE,
            ImportStatus.DISCARDED}
OPTIONS = {"synchronize_session": False}


def _before(setting: str, now: datetime) -> datetime:
    return now - timedelta(days=int(get_setting(setting)))


def purge_uploads(now: datetime) -> int:
    """Delete the files, rejected rows and preview samples of imports uploaded before the
    retention period; returns how many imports lost their file."""
    cutoff = _before("upload_keep_days", now)
    jobs = list(db.session.scalars(select(ImportJob).where(
        ImportJob.created_at < cutoff, ImportJob.status != ImportStatus.PROCESSING,
        or_(ImportJob.file_path != "", ImportJob.status.not_in(FINISHED)))))
    for import_job in jobs:
        delete_upload(import_job)
        import_job.file_path = ""
        if import_job.preview:
            import_job.preview = {**import_job.preview, "sample": []}
        if import_job.status not in FINISHED:
            import_job.status = ImportStatus.FAILED
            import_job.error = _("The uploaded file was deleted after %(days)d days.",
                                 days=int(get_setting("upload_keep_days")))
    old_imports = select(ImportJob.id).where(ImportJob.created_at < cutoff)
    db.session.execute(delete(ImportRowResult).where(
        ImportRowResult.import_id.in_(old_imports), ImportRowResult.customer_id.is_(None)),
        execution_options=OPTIONS)
    return len(jobs)


def purge_spent(now: datetime) -> dict[str, int]:
    """Delete spent password links, idempotency keys and outbox copies older than the period."""
    cutoff = _before("spent_keep_days", now)
    tokens = PasswordResetToken
    counts = {}
    for name, table, condition in (
        ("tokens", tokens, or_(tokens.used_at < cutoff, tokens.revoked_at < cutoff,
                               tokens.expires_at < cutoff)),
        ("idempotency_keys", IdempotentRequest, IdempotentRequest.created_at < cutoff),
        ("outbox", OutboxMessage, OutboxMessage.created_at < cutoff),
    ):
        counts[name] = db.session.execute(delete(table).where(condition),
                                          execution_options=OPTIONS).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    return counts


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Everything past its retention period goes; the caller commits."""
    now = now or utcnow()
    return {"uploads": purge_uploads(now), **purge_spent(now)}


@job(periodic=crontab(hour="3", minute="50"))
def apply_retention_daily() -> None:
    apply_retention()
    db.session.commit()
