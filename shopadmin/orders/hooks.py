"""Where orders appear in the register: the customer page, privacy requests, the settings."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..customers.models import Customer
from ..customers.privacy import register_contributor, register_eraser
from ..customers.routes import register_customer_panel
from ..extensions import db
from ..settings.routes import SETTINGS_LINKS
from . import export as order_export
from .models import Order
from .services import anonymise_orders_of


def _orders_of(customer: Customer) -> tuple[str, list]:
    """A privacy export's orders: what the customer bought, with the details given."""
    orders = db.session.scalars(
        select(Order).where(Order.customer_id == customer.id).order_by(Order.id))
    return "orders", [
        {"number": order.number, "placed_at": order.placed_at.isoformat(),
         "status": order.status.value, "payment_status": order.payment_status.value,
         "currency": order.currency, "total": str(order.total), "email": order.email,
         "name": order.name, "phone": order.phone, "billing_address": order.billing_address,
         "shipping_address": order.shipping_address,
         "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                    "unit_price": str(line.unit_price)} for line in order.lines]}
        for order in orders
    ]


def register() -> None:
    order_export.register()
    register_customer_panel("orders/_customer_orders_button.html", action=True)
    register_customer_panel("orders/_customer_orders_panel.html")
    register_contributor(_orders_of)
    register_eraser(anonymise_orders_of)
    if ("api_keys.index_keys", _l("API keys")) not in SETTINGS_LINKS:
        SETTINGS_LINKS.append(("api_keys.index_keys", _l("API keys")))
