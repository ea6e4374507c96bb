"""The storefront's intake: turn API payloads, validated by schemas.py, into customers and orders.

New customers go through the register's services, like those staff create.
Every function flushes and never commits; errors are lists of {"field", "code", "problem"}."""

from datetime import UTC
from decimal import Decimal

from sqlalchemy import select

from ..audit import record_event
from ..customers.forget import was_erased
from ..customers.models import Customer, Origin
from ..customers.services import create_customer
from ..customers.services import set_newsletter as set_newsletter_consent
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..settings.services import get_settings
from ..text import email_key
from .models import Order, OrderLine, search_text
from .schemas import CustomerIn, NewsletterIn, OrderIn, column_length


class IntakeError(Exception):
    """A request the register refuses after its shape was found valid (schemas.py)."""

    def __init__(self, errors: list[dict[str, str]], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def _problem(field: str, code: str, problem: str) -> dict[str, str]:
    return {"field": field, "code": code, "problem": problem}


def _live_customer(email: str) -> Customer | None:
    return db.session.scalar(select(Customer).where(
        Customer.email_key == email_key(email), Customer.deleted_at.is_(None)))


def _record_consent(customer: Customer, subscribed: bool) -> None:
    set_newsletter_consent(customer, subscribed, actor=None, source="storefront")


def insert_customer(email: str, origin: Origin, *, newsletter: bool = False, **fields) -> Customer:
    """A new register entry from the storefront through the register's own rules (e-mail
    unique whatever its case, consent history, audit); waits for approval if the store says so."""
    data = {name: value for name, value in fields.items() if value not in (None, "")}
    data.update(email=email, origin=origin, newsletter=newsletter,
                approved=not get_settings()["require_approval"])
    try:
        return create_customer(data, actor=None, source="storefront")
    except DomainError as error:
        problem = _problem(error.field or "email", "invalid", str(error.message))
        raise IntakeError([problem]) from None


def _refuse_erased(email: str) -> None:
    """A customer erased at their request is not put back by the shop unnoticed."""
    if was_erased(email):
        raise IntakeError([_problem("email", "erased", ERASED_PROBLEM)], 409)


ERASED_PROBLEM = ("belongs to a customer who was erased at their request; the shop's staff "
                  "must add them by hand")


def register_customer(data: CustomerIn) -> Customer:
    """POST /api/v1/customers: a visitor created an account."""
    if _live_customer(data.email) is not None:
        raise IntakeError([_problem("email", "already_exists", "is already registered")], 409)
    _refuse_erased(data.email)
    return insert_customer(
        data.email, Origin.SIGNUP, newsletter=bool(data.newsletter), language=data.language,
        first_name=data.first_name or "", last_name=data.last_name or "", phone=data.phone or "")


def set_newsletter(data: NewsletterIn) -> tuple[Customer | None, bool]:
    """POST /api/v1/newsletter: (un)subscribe by e-mail; a new address enters the register
    subscribed. Returns the customer (None for an unknown address unsubscribing) and whether
    a customer was created."""
    customer = _live_customer(data.email)
    if customer is None:
        if not data.subscribed:
            return None, False
        _refuse_erased(data.email)
        customer = insert_customer(
            data.email, Origin.SIGNUP, newsletter=True, language=data.language,
            first_name=data.first_name or "", last_name=data.last_name or "")
        return customer, True
    if customer.newsletter != data.subscribed:
        _record_consent(customer, data.subscribed)
        db.session.flush()
    return customer, False


def _lines(data: OrderIn) -> list[OrderLine]:
    return [OrderLine(position=index + 1, sku=line.sku or "", name=line.name,
                      quantity=line.quantity, unit_price=line.unit_price,
                      line_total=line.unit_price * line.quantity)
            for index, line in enumerate(data.lines)]


def _address(address) -> dict[str, str]:
    return address.model_dump(exclude_none=True) if address is not None else {}


def place_order(data: OrderIn) -> Order:
    """POST /api/v1/orders: a registered customer by e-mail, or a guest under the store's policy."""
    shipping = data.shipping or Decimal(0)
    lines = _lines(data)
    subtotal = sum((line.line_total for line in lines), Decimal(0))
    total = subtotal + shipping
    if total >= Decimal(10) ** 10:  # beyond Numeric(12, 2)
        raise IntakeError([_problem("total", "out_of_range", "the order's total is too large")])
    if data.total is not None and data.total != total:
        raise IntakeError([_problem("total", "total_mismatch",
                                    f"does not match the lines and shipping ({total})")])
    if db.session.scalar(select(Order.id).where(Order.number == data.number)):
        raise IntakeError([_problem("number", "already_exists",
                                    "an order with this number already exists")], 409)
    email: str = data.email
    billing = _address(data.billing_address)
    placed_at = data.placed_at or utcnow()
    placed_at = placed_at.astimezone(UTC) if placed_at.tzinfo else placed_at.replace(tzinfo=UTC)
    customer = _live_customer(email)
    if (customer is None and get_settings()["guest_order_policy"] == "create_account"
            and not was_erased(email)):  # an erased customer's order stays a guest's
        first, _, last = (data.name or "").strip().partition(" ")
        # The order keeps the whole name; the register's name fields are shorter.
        first = first[:column_length(Customer.first_name)]
        last = last.strip()[:column_length(Customer.last_name)]
        customer = insert_customer(
            email, Origin.ORDER, language=data.language, first_name=first, last_name=last,
            phone=data.phone or "", billing_country=(billing.get("country") or None),
            billing_address1=billing.get("address1", ""),
            billing_postcode=billing.get("postcode", ""), billing_city=billing.get("city", ""))
    name = (data.name or (customer.full_name if customer else "")).strip()
    shipping_address = _address(data.shipping_address) or billing
    order = Order(
        number=data.number, placed_at=placed_at, customer_id=customer.id if customer else None,
        currency=data.currency, subtotal=subtotal, shipping=shipping, total=total,
        email=email, email_key=email_key(email), name=name, phone=data.phone or "",
        search_text=search_text(name, email),
        country=(shipping_address.get("country") or billing.get("country") or None),
        billing_address=billing, shipping_address=shipping_address, lines=lines)
    db.session.add(order)
    db.session.flush()
    record_event("order.received", "order", order.id, source="storefront",
                 changes={"number": order.number})
    return order
