"""Audit events: who did what to which record, with the changed fields."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .auth.models import StaffUser
from .database import UTCDateTime, utcnow
from .extensions import Model, db

# A customer's data handed out on a privacy request (the privacy log lists these).
PRIVACY_EXPORTED = "customer.privacy_exported"


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # What acted when no staff member did: "import", "storefront", "system".
    source: Mapped[str] = mapped_column(String(32), default="staff")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[StaffUser | None] = relationship()

    # The customer's history reads by object; the security and privacy logs by action.
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id", "id"),
                      Index("ix_audit_events_action", "action", "id"))


def record_event(
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    actor: StaffUser | None = None,
    source: str = "staff",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session; the caller commits with the change it describes."""
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_id=actor.id if actor is not None else None,
        source=source,
        changes=changes or {},
    )
    db.session.add(event)
    return event
