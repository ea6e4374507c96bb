"""Privacy requests: everything stored about a customer as JSON, and erasure.

Other parts of the back office add what they keep about a customer through the two registries:
`register_contributor(fn)` with fn(customer) -> (key, data) for the export, and
`register_eraser(fn)` with fn(customer_id) for erasure (orders keep their lines and totals but
lose the personal data, for example).
"""

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from ..audit import AuditEvent, record_event
from ..auth.models import StaffUser
from ..database import utcnow
from ..extensions import db
from .fields import FIELDS, Kind
from .models import ConsentEvent, Customer

Contributor = Callable[[Customer], tuple[str, Any]]
CONTRIBUTORS: list[Contributor] = []
ERASERS: list[Callable[[int], None]] = []


def register_contributor(contributor: Contributor) -> None:
    if contributor not in CONTRIBUTORS:
        CONTRIBUTORS.append(contributor)


def register_eraser(eraser: Callable[[int], None]) -> None:
    if eraser not in ERASERS:
        ERASERS.append(eraser)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(customer: Customer) -> tuple[str, Any]:
    data = {f.name: _plain(getattr(customer, f.name)) for f in FIELDS
            if f.kind != Kind.GROUPS}
    data.update(origin=_plain(customer.origin), password_set=customer.password_hash is not None,
                password_set_at=_plain(customer.password_set_at),
                newsletter_changed_at=_plain(customer.newsletter_changed_at))
    return "customer", data


def _groups(customer: Customer) -> tuple[str, Any]:
    return "groups", [group.name for group in customer.groups]


def _consents(customer: Customer) -> tuple[str, Any]:
    events = db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.customer_id == customer.id).order_by(ConsentEvent.id))
    return "marketing_consent", [
        {"at": _plain(e.created_at), "subscribed": e.subscribed, "source": e.source.value,
         "wording": e.wording} for e in events
    ]


def _history(customer: Customer) -> tuple[str, Any]:
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "customer", AuditEvent.object_id == customer.id)
        .order_by(AuditEvent.id))
    return "history", [
        {"at": _plain(e.created_at), "action": e.action, "source": e.source,
         "changes": e.changes} for e in events
    ]


for _contributor in (_record, _groups, _consents, _history):
    register_contributor(_contributor)


def export_customer_data(customer: Customer) -> dict[str, Any]:
    """Everything stored about a customer, for a request under GDPR Art. 15 / 20."""
    data: dict[str, Any] = {"exported_at": _plain(utcnow())}
    for contributor in CONTRIBUTORS:
        key, value = contributor(customer)
        data[key] = value
    return data


def erase_customer(customer: Customer, *, actor: StaffUser) -> int:
    """Erase a customer for good (GDPR Art. 17).

    The row is deleted rather than scrubbed, so the e-mail address is free for a new sign-up and
    no personal value can linger in a forgotten column; consent events, memberships and search
    terms go with it. Audit events about the customer lose their recorded values, and one new
    event says that an erasure happened, naming only the former ID. Returns that ID, also when
    a colleague's erasure of the same customer overtook this one.
    """
    customer_id = customer.id
    for eraser in ERASERS:
        eraser(customer_id)
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.object_type == "customer", AuditEvent.object_id == customer_id)
        .values(changes={}),
        execution_options={"synchronize_session": False},
    )
    try:
        db.session.delete(customer)
        db.session.flush()
    except (ObjectDeletedError, StaleDataError):
        # A colleague erased the customer a moment ago; their erasure did the whole job.
        db.session.rollback()
        return customer_id
    record_event("customer.erased", "customer", customer_id, actor=actor)
    return customer_id
