"""Where the password mails appear in the register: the customer page and the list's bulk
actions."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from ..customers.bulk import BulkAction, register_action
from ..customers.privacy import register_eraser
from ..customers.routes import register_customer_panel
from ..extensions import db
from . import services
from .models import MailLog, OutboxMessage


def _forget_mails(customer_id: int) -> None:
    """An erased customer's mails stay counted in their batches, without address or content."""
    logs = select(MailLog.id).where(MailLog.customer_id == customer_id)
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.mail_log_id.in_(logs)),
                       execution_options={"synchronize_session": False})
    db.session.execute(update(MailLog).where(MailLog.customer_id == customer_id)
                       .values(recipient="", error=""),
                       execution_options={"synchronize_session": False})


def _start_batch(chosen: list[int] | str, actor, params: dict) -> str:
    """The bulk action: the selected ids, or (scope "all") the list's search, which the
    worker turns into recipients."""
    if params.get("scope") == "all":
        batch = services.send_password_mails_described(
            actor, query=chosen, estimate=params.get("count", 0),
            submission=params.get("submission"))
    else:
        batch = services.send_password_mails(chosen, actor, submission=params.get("submission"))
    return url_for("notifications.batch", batch_id=batch.id)


def register() -> None:
    register_eraser(_forget_mails)
    register_customer_panel("notifications/_send_password_button.html", action=True)
    register_customer_panel("notifications/_customer_mails.html")
    register_action(BulkAction("send_password", _l("Send password mail"), lambda *a: 0,
                               start=_start_batch, details=services.language_breakdown))
