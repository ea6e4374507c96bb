"""Imports every model module, so that metadata and Alembic see all tables."""

from .audit import AuditEvent
from .auth.models import StaffSession, StaffUser
from .customers.models import ConsentEvent, Customer, CustomerGroup
from .orders.models import ApiKey, IdempotentRequest, Order, OrderLine
from .settings.models import Setting

__all__ = [
    "ApiKey", "AuditEvent", "ConsentEvent", "Customer", "CustomerGroup", "IdempotentRequest",
    "Order", "OrderLine", "Setting", "StaffSession", "StaffUser",
]
