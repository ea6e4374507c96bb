"""Orders with their lines, the API keys of the storefront and remembered idempotent requests."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..customers.models import Customer
from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import Model
from ..text import email_key, fold


def search_text(name: str, email: str) -> str:
    """What an order's search reads: the buyer's name folded and the e-mail key, cut to the
    column's length (the indexes on both databases are built from it)."""
    return f"{fold(name)} {email_key(email)}"[:460]


class OrderStatus(enum.StrEnum):
    NEW = "new"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    FAILED = "failed"


class Order(Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus), default=OrderStatus.NEW)
    payment_status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus), default=PaymentStatus.PENDING
    )
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # The buyer's details as given with the order: kept for guests, cleared by erasure.
    email: Mapped[str] = mapped_column(String(254), default="")
    email_key: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    # Folded name and e-mail, for accent- and case-insensitive search (search_text()).
    search_text: Mapped[str] = mapped_column(String(460), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str | None] = mapped_column(String(2))
    billing_address: Mapped[dict] = mapped_column(JSON, default=dict)
    shipping_address: Mapped[dict] = mapped_column(JSON, default=dict)
    anonymised: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_orders_placed", "placed_at", "id"),
        Index("ix_orders_status_placed", "status", "placed_at", "id"),
        Index("ix_orders_customer_placed", "customer_id", "placed_at", "id"),
        Index("ix_orders_email_key", "email_key"),
        Index("ix_orders_country_placed", "country", "placed_at", "id"),
    )


# A word inside a name or e-mail (LIKE '%word%') is found through an index the migrations make
# by hand, as the customers' search tables: on PostgreSQL the GIN index ix_orders_search_words
# of every word's suffixes, order_search_words(search_text) (migration c6f2a8d4e1b9; an
# expression index, which autogenerate cannot compare on SQLite); on SQLite the FTS5 trigram
# table order_search (migration f4b8e2d6a913). See services._containing.


class OrderLine(Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    sku: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="lines")


class ApiKey(Model):
    """A key of the storefront: only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotentRequest(Model):
    """The answer given to an API request with an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("uq_idempotent_requests_key", "api_key_id", "key", unique=True),
    )
