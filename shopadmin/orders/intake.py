"""The storefront's intake: validate API payloads and turn them into customers and orders.

New customers go through the register's services, like those staff create.
Every function flushes and never commits; errors are lists of {"field", "problem"}."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from ..audit import record_event
from ..customers.forget import was_erased
from ..customers.models import Customer, Origin
from ..customers.services import create_customer
from ..customers.services import set_newsletter as set_newsletter_consent
from ..customers.validation import check_language, email_key, normalise_email
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..settings.services import get_settings
from ..text import fold
from .models import Order, OrderLine

GUEST_POLICIES = ("keep_out", "create_account")
CURRENCIES = {"EUR", "PLN", "USD", "GBP", "CHF", "SEK", "DKK", "CZK", "NOK"}


class IntakeError(Exception):
    def __init__(self, errors: list[dict[str, str]], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def _problem(field: str, problem: str) -> dict[str, str]:
    return {"field": field, "problem": problem}


def _check(data: Any, spec: dict[str, tuple[type | tuple, bool]], prefix: str = "") -> list:
    """Check a JSON object against {field: (types, required)}: unknown, missing, wrong type."""
    if not isinstance(data, dict):
        return [_problem(prefix.rstrip(".") or "(body)", "must be a JSON object")]
    errors = [_problem(prefix + key, "unknown field") for key in data if key not in spec]
    for key, (types, required) in spec.items():
        if key not in data or data[key] is None:
            if required:
                errors.append(_problem(prefix + key, "is required"))
            continue
        value = data[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            errors.append(_problem(prefix + key, f"must be {_type_name(types)}"))
    return errors


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _type_name(types) -> str:
    names = {str: "a string", bool: "true or false", int: "an integer", list: "a list",
             dict: "an object", float: "a number"}
    return " or ".join(names[t] for t in _tuple(types))


def _email(data: dict, errors: list, field: str = "email") -> str:
    value = data.get(field) if isinstance(data.get(field), str) else ""
    try:
        return normalise_email(value, field)
    except DomainError:
        errors.append(_problem(field, "is not a valid e-mail address"))
        return value.strip()


def _language(data: dict, errors: list) -> str | None:
    language = data.get("language")
    if not isinstance(language, str) or not language:
        return None
    try:
        return check_language(language)
    except DomainError:
        errors.append(_problem("language", "is not an ISO 639-1 language code"))
        return None


def _checked(data: Any, spec: dict) -> tuple[str, str | None, list]:
    """The body's shape against the spec (raised at once when wrong), then its e-mail and
    language; returns them with the problems found so far."""
    errors = _check(data, spec)
    if errors:
        raise IntakeError(errors)
    return _email(data, errors), _language(data, errors), errors


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
        raise IntakeError([_problem(error.field or "email", str(error.message))]) from None


def _refuse_erased(email: str) -> None:
    """A customer erased at their request is not put back by the shop unnoticed."""
    if was_erased(email):
        raise IntakeError([_problem("email", ERASED_PROBLEM)], 409)


ERASED_PROBLEM = ("belongs to a customer who was erased at their request; the shop's staff "
                  "must add them by hand")
CUSTOMER_SPEC = {
    "email": (str, True), "first_name": (str, False), "last_name": (str, False),
    "phone": (str, False), "language": (str, False), "newsletter": (bool, False),
}


def register_customer(data: Any) -> Customer:
    """POST /api/v1/customers: a visitor created an account."""
    email, language, errors = _checked(data, CUSTOMER_SPEC)
    if errors:
        raise IntakeError(errors)
    if _live_customer(email) is not None:
        raise IntakeError([_problem("email", "is already registered")], 409)
    _refuse_erased(email)
    return insert_customer(
        email, Origin.SIGNUP, newsletter=bool(data.get("newsletter")), language=language,
        first_name=data.get("first_name") or "", last_name=data.get("last_name") or "",
        phone=data.get("phone") or "")


NEWSLETTER_SPEC = {
    "email": (str, True), "subscribed": (bool, True), "first_name": (str, False),
    "last_name": (str, False), "language": (str, False),
}


def set_newsletter(data: Any) -> tuple[Customer | None, bool]:
    """POST /api/v1/newsletter: (un)subscribe by e-mail; a new address enters the register
    subscribed. Returns the customer (None for an unknown address unsubscribing) and whether
    a customer was created."""
    email, language, errors = _checked(data, NEWSLETTER_SPEC)
    if errors:
        raise IntakeError(errors)
    subscribed = data["subscribed"]
    customer = _live_customer(email)
    if customer is None:
        if not subscribed:
            return None, False
        _refuse_erased(email)
        customer = insert_customer(
            email, Origin.SIGNUP, newsletter=True, language=language,
            first_name=data.get("first_name") or "", last_name=data.get("last_name") or "")
        return customer, True
    if customer.newsletter != subscribed:
        _record_consent(customer, subscribed)
        db.session.flush()
    return customer, False


ADDRESS_SPEC = {key: (str, False) for key in (
    "name", "company", "address1", "house_number", "address2", "postcode", "city", "region",
    "country")}
LINE_SPEC = {"sku": (str, False), "name": (str, True), "quantity": (int, True),
             "unit_price": ((str, int, float), True)}
ORDER_SPEC = {
    "number": (str, True), "placed_at": (str, False), "email": (str, True), "name": (str, False),
    "phone": (str, False), "currency": (str, True), "shipping": ((str, int, float), False),
    "total": ((str, int, float), False), "language": (str, False),
    "billing_address": (dict, False), "shipping_address": (dict, False), "lines": (list, True),
}


def _money(value, field: str, errors: list) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors.append(_problem(field, "must be an amount"))
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        errors.append(_problem(field, "must be an amount of at least 0 with at most 2 decimals"))
        return Decimal(0)
    return amount


def _placed_at(data: dict, errors: list) -> datetime:
    if not data.get("placed_at"):
        return utcnow()
    try:
        placed = datetime.fromisoformat(data["placed_at"])
    except ValueError:
        errors.append(_problem("placed_at", "must be an ISO 8601 date and time"))
        return utcnow()
    return placed.astimezone(UTC) if placed.tzinfo else placed.replace(tzinfo=UTC)


def _lines(data: dict, errors: list) -> list[OrderLine]:
    if not data["lines"]:
        errors.append(_problem("lines", "must hold at least one line"))
    lines = []
    for index, raw in enumerate(data["lines"]):
        prefix = f"lines[{index}]."
        line_errors = _check(raw, LINE_SPEC, prefix)
        if line_errors:
            errors.extend(line_errors)
            continue
        if raw["quantity"] < 1:
            errors.append(_problem(prefix + "quantity", "must be at least 1"))
        price = _money(raw["unit_price"], prefix + "unit_price", errors)
        lines.append(OrderLine(position=index + 1, sku=raw.get("sku") or "", name=raw["name"],
                               quantity=raw["quantity"], unit_price=price,
                               line_total=price * raw["quantity"]))
    return lines


def place_order(data: Any) -> Order:
    """POST /api/v1/orders: a registered customer by e-mail, or a guest under the store's policy."""
    email, language, errors = _checked(data, ORDER_SPEC)
    currency = data["currency"].upper()
    if currency not in CURRENCIES:
        errors.append(_problem("currency", "is not a supported currency"))
    for key in ("billing_address", "shipping_address"):
        errors.extend(_check(data.get(key) or {}, ADDRESS_SPEC, key + "."))
    shipping = _money(data.get("shipping", 0), "shipping", errors)
    lines = _lines(data, errors)
    placed_at = _placed_at(data, errors)
    subtotal = sum((line.line_total for line in lines), Decimal(0))
    total = subtotal + shipping
    if data.get("total") is not None and _money(data["total"], "total", errors) != total:
        errors.append(_problem("total", f"does not match the lines and shipping ({total})"))
    if errors:
        raise IntakeError(errors)
    if db.session.scalar(select(Order.id).where(Order.number == data["number"])):
        raise IntakeError([_problem("number", "an order with this number already exists")], 409)
    billing = data.get("billing_address") or {}
    customer = _live_customer(email)
    if (customer is None and get_settings()["guest_order_policy"] == "create_account"
            and not was_erased(email)):  # an erased customer's order stays a guest's
        first, _, last = (data.get("name") or "").strip().partition(" ")
        customer = insert_customer(
            email, Origin.ORDER, language=language, first_name=first, last_name=last,
            phone=data.get("phone") or "", billing_country=(billing.get("country") or None),
            billing_address1=billing.get("address1", ""),
            billing_postcode=billing.get("postcode", ""), billing_city=billing.get("city", ""))
    name = (data.get("name") or (customer.full_name if customer else "")).strip()
    shipping_address = data.get("shipping_address") or billing
    order = Order(
        number=data["number"], placed_at=placed_at, customer_id=customer.id if customer else None,
        currency=currency, subtotal=subtotal, shipping=shipping, total=total,
        email=email, email_key=email_key(email), name=name, phone=data.get("phone") or "",
        search_text=f"{fold(name)} {email.lower()}",
        country=((shipping_address.get("country") or billing.get("country") or "").upper()
                 or None),
        billing_address=billing, shipping_address=shipping_address, lines=lines)
    db.session.add(order)
    db.session.flush()
    record_event("order.received", "order", order.id, source="storefront",
                 changes={"number": order.number})
    return order
