"""Where the import appears in the register: the warnings it left on a customer's page, and
what it keeps about a customer, forgotten when the customer is erased."""

from sqlalchemy import delete

from ..customers.privacy import register_eraser
from ..customers.routes import register_customer_panel
from ..extensions import db
from .import_models import ImportChange, ImportRowResult


def forget_previous_values(customer_id: int) -> None:
    """An import's undo record holds the values it replaced, and its warnings the cells of the
    customer's row; after an erasure there is nothing to restore them to, and they must not
    outlive the customer."""
    db.session.execute(delete(ImportChange).where(ImportChange.customer_id == customer_id),
                       execution_options={"synchronize_session": False})
    db.session.execute(delete(ImportRowResult).where(ImportRowResult.customer_id == customer_id),
                       execution_options={"synchronize_session": False})


def register() -> None:
    register_eraser(forget_previous_values)
    register_customer_panel("imports/_customer_warnings.html")
