"""Imports every model module, so that metadata and Alembic see all tables."""

from .account.models import PasswordResetToken
from .audit import AuditEvent
from .auth.models import StaffSession, StaffUser
from .customers.models import ConsentEvent, Customer, CustomerGroup
from .notifications.models import MailBatch, MailLog, NotificationTemplate, OutboxMessage
from .settings.models import Setting

__all__ = [
    "AuditEvent", "ConsentEvent", "Customer", "CustomerGroup", "Setting", "StaffSession",
    "StaffUser",
    "MailBatch", "MailLog", "NotificationTemplate", "OutboxMessage", "PasswordResetToken",
]
