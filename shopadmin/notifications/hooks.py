"""Where the password mails appear in the register: the customer page and the list's bulk
actions."""

from typing import cast

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from ..customers.bulk import BulkAction
from ..customers.forget import Forgotten
from ..database import json_value
from ..extensions import db
from ..registry import registry
from ..text import email_key_sql
from . import services
from .models import MailLog, OutboxMessage


def _forget_mails(gone: Forgotten) -> None:
    """A forgotten customer's mails stay counted in their batches, without address or content;
    test mails and mails to the address without a customer go as well."""
    mine = or_(MailLog.customer_id.in_(gone.ids), email_key_sql(MailLog.recipient).in_(gone.emails))
    logs = select(MailLog.id).where(mine)
    db.session.execute(delete(OutboxMessage).where(or_(
        OutboxMessage.mail_log_id.in_(logs),
        email_key_sql(OutboxMessage.recipient).in_(gone.emails))),
        execution_options={"synchronize_session": False})
    db.session.execute(update(MailLog).where(mine).values(recipient="", error=""),
                       execution_options={"synchronize_session": False})


def _mails_to(customer) -> tuple[str, list]:
    """A privacy export's mails: every mail to the customer, and its text where a copy is kept
    (the local outbox); a mail handed to the mail server is kept as its log entry only."""
    logs = db.session.scalars(select(MailLog).where(MailLog.customer_id == customer.id)
                              .order_by(MailLog.id)).all()
    copies = {copy.mail_log_id: copy for copy in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.mail_log_id.in_([m.id for m in logs])))}
    mails = []
    for log in logs:
        mail = {"created_at": json_value(log.created_at), "recipient": log.recipient,
                "template": log.template_key, "language": log.language,
                "status": log.status.value, "attempts": log.attempts,
                "sent_at": json_value(log.sent_at), "error": log.error}
        if (copy := copies.get(log.id)) is not None:
            mail.update(sender=copy.sender, subject=copy.subject, text=copy.text_body,
                        html=copy.html_body)
        mails.append(mail)
    return "mails", mails


def _start_batch(chosen: list[int] | str, actor, params: dict) -> str:
    """The bulk action: the selected ids, or (scope "all") the list's search, which the
    worker turns into recipients."""
    if params.get("scope") == "all":
        batch = services.send_password_mails_described(
            actor, query=cast(str, chosen), estimate=params.get("count", 0),
            submission=params.get("submission"))
    else:
        batch = services.send_password_mails(cast(list[int], chosen), actor,
                                             submission=params.get("submission"))
    return url_for("notifications.batch", batch_id=batch.id)


def init_app(app) -> None:
    extensions = registry(app)
    extensions.add_eraser(_forget_mails)
    extensions.add_contributor(_mails_to)
    extensions.add_customer_panel("notifications/_send_password_button.html", action=True)
    extensions.add_customer_panel("notifications/_customer_mails.html")
    extensions.add_bulk_action(BulkAction("send_password", _l("Send password link"),
                                          lambda *a: 0, start=_start_batch,
                                          details=services.language_breakdown))
