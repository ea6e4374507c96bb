"""The customer register: customers and their groups."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import StaffUser  # noqa: F401  (relationship targets)
from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import Model, db
from .choices import CustomerType, Gender


class Origin(enum.StrEnum):
    ADMIN = "admin"
    IMPORT = "import"
    SIGNUP = "signup"
    ORDER = "order"


customer_group_members = Table(
    "customer_group_members",
    db.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_customer_group_members_group_id", "group_id", "customer_id"),
)


class CustomerGroup(Model):
    __tablename__ = "customer_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_LIVE = text("deleted_at IS NULL")
LIVE_SORT_INDEXES = {
    "name": ("last_name", "first_name", "id"),
    "email": ("email_key",),
    "created": ("created_at", "id"),
    "modified": ("updated_at", "id"),
    "number": ("customer_number", "id"),
}
# Columns the sort indexes carry besides their key, on PostgreSQL: a walk of the e-mail order
# (a search sorted by e-mail) reads the ids from the index alone. SQLite's indexes hold the
# rowid (the id) anyway.
LIVE_SORT_INCLUDES = {"email": ["id"]}


class Customer(Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)
    # The import that created the customer (the report's "customers of this import").
    import_id: Mapped[int | None] = mapped_column(index=True)

    first_name: Mapped[str] = mapped_column(String(100), default="")
    initials: Mapped[str] = mapped_column(String(20), default="")
    last_name_prefix: Mapped[str] = mapped_column(String(30), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254))
    # The e-mail lowercased: unique, so one address is one customer whatever its case.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(100), default="")

    approved: Mapped[bool] = mapped_column(default=True)
    confirmed: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str] = mapped_column(String(40), default="")
    mobile: Mapped[str] = mapped_column(String(40), default="")
    # Indexed with the name (see __table_args__): any of some 180 languages can be a filter, a
    # rare one too, and a deep page of a common one is read from the index alone.
    language: Mapped[str | None] = mapped_column(String(5))
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    birth_date: Mapped[date | None]

    newsletter: Mapped[bool] = mapped_column(default=False)
    newsletter_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer_type: Mapped[CustomerType] = mapped_column(
        enum_type(CustomerType), default=CustomerType.PRIVATE
    )
    company_name: Mapped[str] = mapped_column(String(200), default="")
    company_id_number: Mapped[str] = mapped_column(String(64), default="")
    coc_number: Mapped[str] = mapped_column(String(64), default="")
    vat_number: Mapped[str] = mapped_column(String(32), default="")

    billing_country: Mapped[str | None] = mapped_column(String(2))
    billing_attention: Mapped[str] = mapped_column(String(200), default="")
    billing_address1: Mapped[str] = mapped_column(String(200), default="")
    billing_house_number: Mapped[str] = mapped_column(String(20), default="")
    billing_house_number_ext: Mapped[str] = mapped_column(String(20), default="")
    billing_address2: Mapped[str] = mapped_column(String(200), default="")
    billing_postcode: Mapped[str] = mapped_column(String(20), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_region: Mapped[str] = mapped_column(String(100), default="")

    shipping_differs: Mapped[bool] = mapped_column(default=False)
    shipping_company: Mapped[str] = mapped_column(String(200), default="")
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    shipping_attention: Mapped[str] = mapped_column(String(200), default="")
    shipping_address1: Mapped[str] = mapped_column(String(200), default="")
    shipping_house_number: Mapped[str] = mapped_column(String(20), default="")
    shipping_house_number_ext: Mapped[str] = mapped_column(String(20), default="")
    shipping_address2: Mapped[str] = mapped_column(String(200), default="")
    shipping_postcode: Mapped[str] = mapped_column(String(20), default="")
    shipping_city: Mapped[str] = mapped_column(String(100), default="")
    shipping_region: Mapped[str] = mapped_column(String(100), default="")

    notes: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[Origin] = mapped_column(enum_type(Origin), default=Origin.ADMIN)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In the trash since deleted_at (restorable until the trash is emptied); None: live.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    deleted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    created_by: Mapped["StaffUser | None"] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped["StaffUser | None"] = relationship(foreign_keys=[updated_by_id])
    groups: Mapped[list[CustomerGroup]] = relationship(
        secondary=customer_group_members, lazy="selectin", order_by=CustomerGroup.name
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_customers_approved", "approved", "id"),
        # The list's sort orders over live customers (partial: the trash is left out), so that
        # a page, a count or the list's anchors (customers/paging.py) step through an index
        # alone, never through the rows.
        *(Index(f"ix_customers_live_{name}", *columns, sqlite_where=_LIVE, postgresql_where=_LIVE,
                postgresql_include=LIVE_SORT_INCLUDES.get(name, []))
          for name, columns in LIVE_SORT_INDEXES.items()),
        Index("ix_customers_live_language", "language", "last_name", "first_name", "id",
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        # The same for the country filter: names follow the country (a Polish shop's Nowaks
        # sort after the Müllers), so walking the name index for a country's first page
        # passed a third of the register; its count reads the index alone.
        Index("ix_customers_live_country", "billing_country", "last_name", "first_name", "id",
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        # E-mail addresses follow the names, and so the country too.
        Index("ix_customers_live_country_email", "billing_country", "email_key",
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        # Narrow and keyed by id: the flags the list filters on, read without the wide row
        # when a group or a search has already chosen the ids.
        Index("ix_customers_flags", "id", "newsletter", "approved", "deleted_at"),
        # An erased customer's id is never handed out again (SQLite would reuse the highest).
        {"sqlite_autoincrement": True},
    )

    @property
    def full_name(self) -> str:
        parts = [self.first_name, self.last_name_prefix, self.last_name]
        return " ".join(part for part in parts if part)


class ConsentSource(enum.StrEnum):
    STAFF = "staff"
    IMPORT = "import"
    STOREFRONT = "storefront"
    API = "api"


class ConsentEvent(Model):
    """A change of a customer's marketing consent: when, through what, and the wording agreed to
    (its text and the language it is written in; "" for an unknown language)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subscribed: Mapped[bool]
    source: Mapped[ConsentSource] = mapped_column(enum_type(ConsentSource))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    wording: Mapped[str] = mapped_column(Text, default="")
    wording_language: Mapped[str] = mapped_column(String(8), default="", server_default="")

    actor: Mapped["StaffUser | None"] = relationship()

    __table_args__ = (Index("ix_consent_events_customer", "customer_id", "id"),)


class SavedView(Model):
    """A staff member's named search of the list, or (with an empty name) their column choice."""

    __tablename__ = "customer_saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), default="")
    query: Mapped[str] = mapped_column(Text, default="")
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ErasedAddress(Model):
    """The keyed hash (HMAC-SHA256 with the SECRET_KEY) of an e-mail address erased at the
    customer's request: enough to recognise the address when an old file or the shop brings it
    back, useless for finding out what it was."""

    __tablename__ = "erased_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
