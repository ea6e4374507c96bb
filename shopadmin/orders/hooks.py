"""Where orders appear in the register: the customer page, privacy requests, the settings."""

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ..customers.forget import Forgotten
from ..customers.models import Customer
from ..database import json_value
from ..extensions import db
from ..registry import registry
from ..text import email_key
from . import export as order_export
from .models import IdempotentRequest, Order
from .services import anonymise_orders_of


def _orders_of(customer: Customer) -> tuple[str, list]:
    """A privacy export's orders: what the customer bought, with the details given."""
    orders = db.session.scalars(
        select(Order).where(Order.customer_id == customer.id).order_by(Order.id))
    return "orders", [
        {"number": order.number, "placed_at": json_value(order.placed_at),
         "status": json_value(order.status), "payment_status": json_value(order.payment_status),
         "currency": order.currency, "total": str(order.total), "email": order.email,
         "name": order.name, "phone": order.phone, "billing_address": order.billing_address,
         "shipping_address": order.shipping_address,
         "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                    "unit_price": str(line.unit_price)} for line in order.lines]}
        for order in orders
    ]


def _forget_orders(gone: Forgotten) -> None:
    anonymise_orders_of(gone.ids, gone.emails)


def _answers_about(response: dict, path: str, gone: Forgotten) -> bool:
    if response.get("customer_id") in gone.ids:
        return True
    if path.endswith(("/customers", "/newsletter")) and response.get("id") in gone.ids:
        return True
    return any(isinstance(value, str) and email_key(value) in gone.emails
               for value in response.values())


def _forget_api_answers(gone: Forgotten) -> None:
    """A stored answer (for replaying a retried request) names the customer and the address."""
    rows = db.session.execute(select(IdempotentRequest.id, IdempotentRequest.path,
                                     IdempotentRequest.response))
    ids = [row.id for row in rows if isinstance(row.response, dict)
           and _answers_about(row.response, row.path, gone)]
    if ids:
        db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.id.in_(ids)),
                           execution_options={"synchronize_session": False})


def init_app(app: Flask) -> None:
    order_export.init_app(app)
    extensions = registry(app)
    extensions.add_customer_panel("orders/_customer_orders_button.html", action=True)
    extensions.add_customer_panel("orders/_customer_orders_panel.html")
    extensions.add_contributor(_orders_of)
    extensions.add_eraser(_forget_orders)
    extensions.add_eraser(_forget_api_answers)
    extensions.add_settings_link("api_keys.index_keys", _l("API keys"))
