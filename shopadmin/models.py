"""Imports every model module, so that metadata and Alembic see all tables."""

from .audit import AuditEvent
from .auth.models import StaffSession, StaffUser
from .customers.models import ConsentEvent, Customer, CustomerGroup
from .settings.models import Setting
from .transfer.import_models import ImportChange, ImportJob, ImportMapping, ImportRowResult

__all__ = [
    "AuditEvent", "ConsentEvent", "Customer", "CustomerGroup", "ImportChange", "ImportJob",
    "ImportMapping", "ImportRowResult", "Setting", "StaffSession", "StaffUser",
]
