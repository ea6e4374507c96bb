"""Imports every model module, so that metadata and Alembic see all tables."""

from .account.models import PasswordResetToken
from .audit import AuditEvent
from .auth.models import RecoveryCode, StaffSession, StaffUser
from .customers.bulk import BulkJob
from .customers.models import ConsentEvent, Customer, CustomerGroup, SavedView
from .customers.scrub import Scrub
from .customers.search import customer_search_vectors
from .exports.models import ExportJob
from .imports.models import ImportChange, ImportJob, ImportMapping, ImportRowResult
from .notifications.models import MailBatch, MailLog, NotificationTemplate, OutboxMessage
from .orders.models import ApiKey, IdempotentRequest, Order, OrderLine
from .settings.models import Setting

__all__ = [
    "ApiKey", "AuditEvent", "BulkJob", "ConsentEvent", "Customer", "CustomerGroup", "ExportJob",
    "IdempotentRequest", "ImportChange", "ImportJob", "ImportMapping", "ImportRowResult",
    "MailBatch", "MailLog", "NotificationTemplate", "Order", "OrderLine", "OutboxMessage",
    "PasswordResetToken", "RecoveryCode", "SavedView", "Scrub", "Setting", "StaffSession",
    "StaffUser",
    "customer_search_vectors",
]
