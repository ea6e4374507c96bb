"""Privacy requests: everything stored about a customer as JSON, and erasure.

Other parts of the back office add what they keep about a customer through the app's registry
(`shopadmin/registry.py`): `add_contributor(fn)` with fn(customer) -> (key, data) for the
export, and `add_eraser(fn)` (see forget.py, the one way out of the register) for erasure.
"""

from typing import Any

from flask import Flask
from sqlalchemy import select

from ..audit import PRIVACY_EXPORTED, AuditEvent, record_event
from ..auth.models import StaffUser
from ..database import json_value, utcnow
from ..extensions import db
from ..registry import registry
from .fields import FIELDS, Kind
from .forget import forget_customers
from .models import ConsentEvent, Customer


def _record(customer: Customer) -> tuple[str, Any]:
    data = {f.name: json_value(getattr(customer, f.name)) for f in FIELDS
            if f.kind != Kind.GROUPS}
    data.update(origin=json_value(customer.origin), password_set=customer.password_hash is not None,
                password_set_at=json_value(customer.password_set_at),
                newsletter_changed_at=json_value(customer.newsletter_changed_at))
    return "customer", data


def _groups(customer: Customer) -> tuple[str, Any]:
    return "groups", [group.name for group in customer.groups]


def _consents(customer: Customer) -> tuple[str, Any]:
    events = db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.customer_id == customer.id).order_by(ConsentEvent.id))
    return "marketing_consent", [
        {"at": json_value(e.created_at), "subscribed": e.subscribed, "source": e.source.value,
         "wording": e.wording, "wording_language": e.wording_language} for e in events
    ]


def _history(customer: Customer) -> tuple[str, Any]:
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "customer", AuditEvent.object_id == customer.id)
        .order_by(AuditEvent.id))
    return "history", [
        {"at": json_value(e.created_at), "action": e.action, "source": e.source,
         "changes": e.changes} for e in events
    ]


def _password_links(customer: Customer) -> tuple[str, Any]:
    """The links sent to set a password (never the secret, which is not kept)."""
    from ..account.models import PasswordResetToken

    rows = db.session.scalars(select(PasswordResetToken).where(
        PasswordResetToken.customer_id == customer.id).order_by(PasswordResetToken.id))
    return "password_links", [
        {"created_at": json_value(r.created_at), "purpose": r.purpose, "language": r.language,
         "expires_at": json_value(r.expires_at), "used_at": json_value(r.used_at),
         "revoked_at": json_value(r.revoked_at)} for r in rows
    ]


def init_app(app: Flask) -> None:
    """The register's own part of a privacy export (other parts add theirs after it)."""
    for contributor in (_record, _groups, _consents, _history, _password_links):
        registry(app).add_contributor(contributor)
    from .privacy_log import SETTINGS_LINK

    registry(app).add_settings_link(*SETTINGS_LINK)


def export_customer_data(customer: Customer, *, actor: StaffUser) -> dict[str, Any]:
    """Everything stored about a customer, for a request under GDPR Art. 15 / 20. The privacy
    log keeps who handed it out and when (an audit event, not the data); the caller commits."""
    data: dict[str, Any] = {"exported_at": json_value(utcnow())}
    for contributor in registry().contributors:
        key, value = contributor(customer)
        data[key] = value
    record_event(PRIVACY_EXPORTED, "customer", customer.id, actor=actor)
    return data


def erase_customer(customer: Customer, *, actor: StaffUser) -> int:
    """Erase a customer for good (GDPR Art. 17), and remember a keyed hash of the address so
    that an old file or the shop cannot bring them back unnoticed. Returns the former id, also
    when a colleague's erasure of the same customer overtook this one."""
    customer_id = customer.id
    forget_customers([customer_id], actor=actor, action="customer.erased",
                     remember_addresses=True)
    return customer_id
