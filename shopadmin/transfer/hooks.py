"""What the import keeps about a customer, forgotten when the customer is erased."""

from sqlalchemy import delete

from ..customers.privacy import register_eraser
from ..extensions import db
from .import_models import ImportChange


def forget_previous_values(customer_id: int) -> None:
    """An import's undo record holds the values it replaced; after an erasure there is nothing
    to restore them to, and they must not outlive the customer."""
    db.session.execute(delete(ImportChange).where(ImportChange.customer_id == customer_id),
                       execution_options={"synchronize_session": False})


def register() -> None:
    register_eraser(forget_previous_values)
