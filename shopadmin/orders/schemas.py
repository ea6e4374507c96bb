"""The storefront API's contract: pydantic models of every request and answer body.

String lengths and amounts' digits are read from the SQLAlchemy columns the values end up in,
so that the contract and the tables cannot disagree; country, currency and language codes are
checked against ISO lists (Babel's). The same models validate the requests and generate the
OpenAPI document (openapi.py).
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from babel import Locale
from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Numeric, String

from ..customers.models import Customer
from ..customers.validation import check_language, normalise_email
from ..domain import DomainError
from .models import Order, OrderLine


def column_length(column) -> int:
    """The length of a String column, e.g. column_length(Order.number) == 40."""
    column_type = column.property.columns[0].type
    assert isinstance(column_type, String) and column_type.length, column
    return column_type.length


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL cannot store it in text
        raise PydanticCustomError("invalid", "must not contain NUL characters")
    return value


def text(column, *, required: bool = False):
    """A string no longer than `column` holds (surrounding blanks removed first), without NUL."""
    return Annotated[str, StringConstraints(
        strip_whitespace=True, max_length=column_length(column), min_length=1 if required else 0),
        AfterValidator(_no_nul)]


def amount(column):
    """A non-negative amount that fits the Numeric `column` (its digits and decimals)."""
    column_type = column.property.columns[0].type
    assert isinstance(column_type, Numeric)
    return Annotated[Decimal, Field(
        ge=0, max_digits=column_type.precision, decimal_places=column_type.scale,
        json_schema_extra={"examples": ["12.50"]})]


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (Babel's territories of two letters, without the unknown ZZ
    and the groupings EU, EZ, UN)."""
    territories = cast("Mapping[str, str]", Locale.parse("en").territories)  # keyed by code
    return frozenset(code for code in territories
                     if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ",
                                                                           "UN", "QO"})


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes in use (Babel's list, without XXX "no currency" and XTS "testing")."""
    return frozenset(list_currencies()) - {"XXX", "XTS"}


def _country(value: str) -> str:
    code = value.strip().upper()
    if code and code not in country_codes():
        raise PydanticCustomError("invalid_code", "is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in currency_codes():
        raise PydanticCustomError("invalid_code", "is not an ISO 4217 currency code")
    return code


def _language(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        return check_language(value)
    except DomainError:
        raise PydanticCustomError("invalid_code", "is not an ISO 639-1 language code") from None


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except DomainError:
        raise PydanticCustomError("invalid_email", "is not a valid e-mail address") from None


def _placed_at(value: Any) -> Any:
    if not isinstance(value, str):  # JSON numbers are not taken for Unix times
        raise PydanticCustomError("wrong_type", "must be an ISO 8601 date and time")
    return value


# A code is checked against its list, which only holds codes that fit their column; a longer
# value is reported as no code (not as too long), and a language tag is cut to its language.
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64),
                 AfterValidator(_no_nul)]
Email = Annotated[text(Customer.email, required=True), AfterValidator(_email)]
Country = Annotated[Code, AfterValidator(_country),
                    Field(description="ISO 3166-1 alpha-2", examples=["DE"])]
Currency = Annotated[Code, AfterValidator(_currency),
                     Field(description="ISO 4217", examples=["EUR"])]
Language = Annotated[Code, AfterValidator(_language),
                     Field(description="ISO 639-1 (any language; nl-BE is read as nl)",
                           examples=["nl"])]
PlacedAt = Annotated[datetime, BeforeValidator(_placed_at),
                     Field(strict=False, description="ISO 8601; without an offset it is UTC")]


class Body(BaseModel):
    """Unknown fields are refused; null is the same as leaving a field out."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CustomerIn(Body):
    email: Email
    first_name: text(Customer.first_name) | None = None
    last_name: text(Customer.last_name) | None = None
    phone: text(Customer.phone) | None = None
    language: Language | None = None
    newsletter: StrictBool | None = None


class NewsletterIn(Body):
    email: Email
    subscribed: StrictBool
    first_name: text(Customer.first_name) | None = None
    last_name: text(Customer.last_name) | None = None
    language: Language | None = None


class AddressIn(Body):
    """Stored with the order as given; a customer created from it gets these as billing fields."""

    name: text(Customer.billing_attention) | None = None
    company: text(Customer.company_name) | None = None
    address1: text(Customer.billing_address1) | None = None
    house_number: text(Customer.billing_house_number) | None = None
    address2: text(Customer.billing_address2) | None = None
    postcode: text(Customer.billing_postcode) | None = None
    city: text(Customer.billing_city) | None = None
    region: text(Customer.billing_region) | None = None
    country: Country | None = None


class LineIn(Body):
    sku: text(OrderLine.sku) | None = None
    name: text(OrderLine.name, required=True)
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    unit_price: amount(OrderLine.unit_price)


class OrderIn(Body):
    number: text(Order.number, required=True)
    email: Email
    currency: Currency
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]
    placed_at: PlacedAt | None = None
    name: text(Order.name) | None = None
    phone: text(Order.phone) | None = None
    shipping: amount(Order.shipping) | None = None
    total: Annotated[amount(Order.total) | None, Field(
        description="checked against the lines and shipping")] = None
    language: Language | None = None
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None


class CustomerCreated(BaseModel):
    id: int
    email: str
    approved: bool


class NewsletterChanged(BaseModel):
    email: str
    subscribed: bool
    customer_id: int | None


class OrderCreated(BaseModel):
    number: str
    id: int
    customer_id: int | None
    guest: bool
    total: str = Field(examples=["29.95"])
    currency: str


ErrorCode = Literal[
    "invalid_json", "not_object", "unknown_field", "required", "wrong_type", "too_long",
    "too_short", "out_of_range", "invalid_amount", "invalid_code", "invalid_email", "invalid",
    "total_mismatch", "already_exists", "erased", "conflict", "unauthorized", "rate_limited",
    "not_found", "method_not_allowed", "too_large", "bad_request", "idempotency_mismatch",
    "server_error",
]


class Problem(BaseModel):
    field: str = Field(description="where: a field, a path such as lines[0].quantity, a header "
                                   "such as X-API-Key, or (body)")
    code: ErrorCode = Field(description="what, for programs")
    problem: str = Field(description="what, in English, for people")


class ErrorBody(BaseModel):
    errors: list[Problem]
