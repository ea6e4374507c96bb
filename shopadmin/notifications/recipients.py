"""A mailing's recipients when it is described rather than listed: everyone the customer
list's search matches, or everyone an import created. The worker adds them, a chunk at a time
by customer id, each chunk committed with how far it got, so that a run cut short goes on
after the last chunk it added and no customer gets two mails of one mailing."""

from urllib.parse import parse_qsl

from sqlalchemy import insert, select
from werkzeug.datastructures import MultiDict

from .. import tracking
from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..settings.services import get_settings
from .models import MailBatch, MailLog, MailStatus
from .rendering import mail_language

CHUNK = 2000


def described_recipients(batch: MailBatch):
    """A select of the ids of the customers a described mailing goes to."""
    if batch.query is not None:
        from ..customers.listing import customer_query

        return customer_query(MultiDict(parse_qsl(batch.query)))
    from ..imports.models import ImportJob
    from ..imports.services import created_customers

    return created_customers(db.session.get_one(ImportJob, batch.origin_id))


def add_recipients(batch: MailBatch, token: str) -> None:
    """Add the mail rows of a described mailing that are not there yet (commits; hands the
    mailing back at a chunk's end when the worker is stopping)."""
    from .batches import KIND

    settings = get_settings()
    while batch.recipients_pending:
        ids = described_recipients(batch).where(Customer.id > batch.recipients_after)
        chunk = db.session.execute(
            select(Customer.id, Customer.email, Customer.language)
            .where(Customer.id.in_(ids.order_by(Customer.id).limit(CHUNK)))
            .order_by(Customer.id)).all()
        now = utcnow()
        # `total` counts the mails added so far (until then, the estimate of the request).
        added = 0 if batch.recipients_after == 0 else batch.total
        batch.total = added + len(chunk)
        if chunk:
            db.session.execute(insert(MailLog), [
                {"batch_id": batch.id, "customer_id": customer_id, "recipient": email,
                 "actor_id": batch.created_by_id, "template_key": batch.template_key,
                 "language": mail_language(language, settings), "status": MailStatus.QUEUED,
                 "attempts": 0, "error": "", "error_kind": "", "is_test": False,
                 "created_at": now, "updated_at": now}
                for customer_id, email, language in chunk])
            batch.recipients_after = chunk[-1][0]
        if len(chunk) < CHUNK:
            batch.recipients_pending = False
        db.session.commit()
        tracking.checkpoint(KIND, batch.id, token)
