"""What the dashboard shows: figures that each lead to the page where staff act on them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..imports.models import ImportJob, ImportStatus
from ..notifications.models import BatchStatus, MailBatch, MailLog, MailStatus
from ..orders.models import Order

# Imports a staff member has started but not applied: they wait for someone to finish them.
UNFINISHED_IMPORTS = (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.PREVIEWED)
MAILINGS_UNDER_WAY = (BatchStatus.QUEUED, BatchStatus.RUNNING, BatchStatus.WAITING)
LISTED = 5  # jobs named on the dashboard per kind; the rest are a link away


@dataclass(frozen=True)
class Attention:
    """Jobs under way and jobs that wait for staff, each kind the few newest."""

    imports_running: list[ImportJob]
    imports_failed: list[ImportJob]
    imports_unfinished: list[ImportJob]
    mailings_running: list[MailBatch]
    mailings_with_failures: list[tuple[MailBatch, int]]


def week_start(today: date | None = None) -> date:
    """The first day of the seven that "this week" counts (today and the six before)."""
    return (today or utcnow().date()) - timedelta(days=6)


def register_figures() -> dict[str, int]:
    live = Customer.deleted_at.is_(None)
    since = datetime.combine(week_start(), time.min, tzinfo=UTC)

    def count(model, *conditions) -> int:
        return db.session.execute(
            select(func.count()).select_from(model).where(*conditions)).scalar_one()

    return {
        "customers": count(Customer, live),
        "new_this_week": count(Customer, live, Customer.created_at >= since),
        "waiting_for_approval": count(Customer, live, Customer.approved.is_(False)),
        "orders_this_week": count(Order, Order.placed_at >= since),
        "failed_mails": count(MailLog, MailLog.status == MailStatus.FAILED),
    }


def _newest(model, *conditions) -> list:
    return list(db.session.scalars(
        select(model).where(*conditions).order_by(model.id.desc()).limit(LISTED)))


def needing_attention() -> Attention:
    failed_per_batch = (
        select(MailLog.batch_id, func.count().label("failed"))
        .where(MailLog.status == MailStatus.FAILED, MailLog.batch_id.is_not(None))
        .group_by(MailLog.batch_id).subquery())
    with_failures = db.session.execute(
        select(MailBatch, failed_per_batch.c.failed)
        .join(failed_per_batch, failed_per_batch.c.batch_id == MailBatch.id)
        .order_by(MailBatch.id.desc()).limit(LISTED)).all()
    return Attention(
        imports_running=_newest(ImportJob, ImportJob.status == ImportStatus.PROCESSING),
        imports_failed=_newest(ImportJob, ImportJob.status == ImportStatus.FAILED),
        imports_unfinished=_newest(ImportJob, ImportJob.status.in_(UNFINISHED_IMPORTS)),
        mailings_running=_newest(MailBatch, MailBatch.status.in_(MAILINGS_UNDER_WAY)),
        mailings_with_failures=[(batch, failed) for batch, failed in with_failures],
    )
