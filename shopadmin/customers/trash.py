"""The trash: deleted customers stay restorable for the configured number of days."""

from datetime import timedelta

from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select

from ..account.tokens import revoke_tokens
from ..audit import record_event
from ..auth.models import StaffUser
from ..auth.rights import Right, may
from ..batching import batched
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..jobs import job
from ..settings.services import get_setting
from .forget import commit_forgetting, forget_customers
from .models import Customer


def delete_customer(customer: Customer, *, actor: StaffUser) -> None:
    """Move a customer to the trash (an administrator's right); everything they had stays."""
    if not may(actor, Right.REMOVE_CUSTOMERS):
        raise DomainError(_("Only an administrator can delete customers."))
    if customer.deleted_at is not None:
        return
    customer.deleted_at = utcnow()
    customer.deleted_by_id = actor.id
    revoke_tokens(customer.id)  # a restored customer gets a new link, not the old one back
    record_event("customer.deleted", "customer", customer.id, actor=actor)


def restore_customer(customer: Customer, *, actor: StaffUser) -> None:
    if customer.deleted_at is None:
        return
    customer.deleted_at = None
    customer.deleted_by_id = None
    record_event("customer.restored", "customer", customer.id, actor=actor)


def purge_date():
    """Customers deleted before this moment are removed for good."""
    return utcnow() - timedelta(days=int(get_setting("trash_days")))


def purge(customer_ids: list[int] | None = None, *, actor: StaffUser | None = None) -> int:
    """Remove customers from the trash for good: the given ones, or all that expired.

    They are forgotten as an erasure forgets them (forget.py); an audit event per customer
    records the purge without personal data.
    """
    query = select(Customer.id).where(Customer.deleted_at.is_not(None))
    if customer_ids is None:
        query = query.where(Customer.deleted_at < purge_date())
    else:
        query = query.where(Customer.id.in_(customer_ids))
    ids = list(db.session.scalars(query))
    removed = 0
    for batch in batched(ids, 1000):
        removed += len(forget_customers(batch, actor=actor, action="customer.purged"))
    return removed


@job(periodic=crontab(hour="3", minute="30"))
def purge_expired_trash() -> None:
    purge()
    commit_forgetting()
