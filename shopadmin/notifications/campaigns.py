"""Following mails: a batch's counts (queued, sent, failed, link used, link expired, password
set), its recipients, and words for statuses and errors."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import func

from ..account.models import PasswordResetToken
from ..account.tokens import link_state
from ..customers.models import Customer
from ..database import RowsPagination, paginate_rows, utcnow
from ..extensions import db
from .models import MailBatch, MailLog, MailStatus

STATUS_LABELS = {
    MailStatus.QUEUED: _lp("mail status", "Queued"),
    MailStatus.SENDING: _lp("mail status", "Sending"),
    MailStatus.SENT: _lp("mail status", "Sent"),
    MailStatus.FAILED: _lp("mail status", "Failed"),
}
STATUS_COLOURS = {MailStatus.QUEUED: "secondary", MailStatus.SENDING: "info",
                  MailStatus.SENT: "success", MailStatus.FAILED: "danger"}
ERROR_TEXTS = {
    "server": _l("The mail server could not be reached."),
    "recipient": _l("The mail server refused this recipient for now."),
    "refused": _l("The mail server refused this mail."),
    "uncertain": _l("The connection broke while the mail was handed over: it may have arrived, "
                    "so it is not sent again automatically."),
    "interrupted": _l("Sending was interrupted: the mail may have gone out, so it is not sent "
                      "again automatically."),
    "no_customer": _l("The customer no longer exists."),
    "not_ascii": _l("The address has letters outside ASCII before the @, and the shop's mail "
                    "server does not offer SMTPUTF8, which such addresses need. Ask the customer "
                    "for another address, or send through a server that offers it."),
}
LINK_LABELS = {
    "used": _l("Link used"),
    "expired": _l("Link expired"),
    "replaced": _l("Replaced by a newer link"),
    "open": _l("Link not used yet"),
}


def origin_text(batch: MailBatch) -> str:
    from flask_babel import gettext as _

    if batch.origin == "import":
        return _("Customers created by import %(number)s", number=batch.origin_id)
    if batch.origin == "resend":
        return _("Fresh link after mailing %(number)s", number=batch.origin_id)
    if batch.origin == "filter":
        return _("Customers matching a filter")
    return _("Selected customers")


def batch_counts(batch: MailBatch, now: datetime | None = None) -> dict[str, int]:
    """The campaign's figures, each a number of recipients."""
    now = now or utcnow()
    counts = {status.value: 0 for status in MailStatus}
    for status, count in db.session.execute(
        db.select(MailLog.status, func.count()).where(MailLog.batch_id == batch.id)
        .group_by(MailLog.status)
    ):
        counts[MailStatus(status).value] = count
    state = link_state(now)
    links = dict.fromkeys(("used", "expired", "replaced", "open", "none"), 0)
    for name, count in db.session.execute(
        db.select(state, func.count())
        .select_from(MailLog)
        .outerjoin(PasswordResetToken, PasswordResetToken.id == MailLog.token_id)
        .where(MailLog.batch_id == batch.id, MailLog.status == MailStatus.SENT)
        .group_by(state)
    ):
        links[name] = count
    password_set = db.session.scalar(
        db.select(func.count()).select_from(MailLog)
        .join(Customer, Customer.id == MailLog.customer_id)
        .where(MailLog.batch_id == batch.id, Customer.password_set_at >= batch.created_at)
    )
    total = sum(counts.values())
    return {
        "total": total,
        "queued": counts["queued"] + counts["sending"],
        "sent": counts["sent"],
        "failed": counts["failed"],
        "left": counts["queued"] + counts["sending"],
        "link_used": links["used"],
        "link_expired": links["expired"],
        "password_set": password_set,
        "without_password": total - password_set,
    }


def _mails_with_link_state(conditions: list, now: datetime | None):
    return (db.select(MailLog, link_state(now or utcnow()).label("link_state"))
            .outerjoin(PasswordResetToken, PasswordResetToken.id == MailLog.token_id)
            .where(*conditions))


def _status_condition(status: str | None) -> list:
    return [MailLog.status == status] if status in MailStatus.__members__.values() else []


def batch_recipients(batch: MailBatch, *, status: str | None, page: int, per_page: int = 50,
                     now: datetime | None = None) -> RowsPagination:
    """One page of the batch's mails, each (mail, link state)."""
    conditions = [MailLog.batch_id == batch.id, *_status_condition(status)]
    return paginate_rows(db.session, _mails_with_link_state(conditions, now)
                         .order_by(MailLog.id), page=page, per_page=per_page)


def mail_log_page(*, status: str | None, page: int, per_page: int = 50,
                  now: datetime | None = None) -> RowsPagination:
    """One page of the whole mail log, newest first, each (mail, link state)."""
    return paginate_rows(db.session, _mails_with_link_state(_status_condition(status), now)
                         .order_by(MailLog.id.desc()), page=page, per_page=per_page)


def recent_batches(limit: int = 50) -> list[tuple[MailBatch, dict[str, int]]]:
    batches = db.session.scalars(
        db.select(MailBatch).order_by(MailBatch.id.desc()).limit(limit)
    ).all()
    return [(batch, batch_counts(batch)) for batch in batches]


def customer_mails(customer_id: int, limit: int = 20, now: datetime | None = None):
    """The customer's latest mails with their link state, newest first."""
    return db.session.execute(
        db.select(MailLog, link_state(now or utcnow()).label("link_state"))
        .outerjoin(PasswordResetToken, PasswordResetToken.id == MailLog.token_id)
        .where(MailLog.customer_id == customer_id)
        .order_by(MailLog.id.desc()).limit(limit)
    ).all()
