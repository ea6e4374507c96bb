"""Creating and changing customers: the rules every path into the register goes through.

Functions flush but never commit; the view (or job) commits the change with its audit events.
"""

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..audit import record_event
from ..auth.models import StaffUser
from ..auth.rights import Right, may
from ..database import json_value, utcnow
from ..domain import DomainError
from ..extensions import db
from ..settings.services import get_settings
from ..text import email_key
from .choices import CustomerType, Gender
from .consent import wording_for
from .fields import BY_NAME, EDITABLE, Kind
from .models import (
    ConsentEvent,
    ConsentSource,
    Customer,
    CustomerGroup,
)
from .numbers import take_number
from .validation import (
    check_birth_date,
    check_language,
    normalise_email,
    normalise_vat_number,
)


class EditConflict(DomainError):
    """A colleague saved the customer after this form was opened."""

    def __init__(self, current: Customer | None, changed: list[str]):
        super().__init__(
            _(
                "A colleague changed this customer while you were editing. Nothing was saved; "
                "your input is kept below. Check it against their changes and save again."
            )
        )
        self.current = current
        self.changed = changed


def customer_values(customer: Customer) -> dict[str, Any]:
    """The editable values of a customer, groups as a sorted list of names."""
    values = {f.name: getattr(customer, f.name) for f in EDITABLE if f.kind != Kind.GROUPS}
    values["groups"] = sorted(group.name for group in customer.groups)
    return values


def _clean(data: dict[str, Any], customer: Customer | None) -> dict[str, Any]:
    """Check and normalise submitted values; raise a DomainError at the first broken rule."""
    values = dict(data)
    for name, value in list(values.items()):
        field = BY_NAME.get(name)
        if isinstance(value, str):
            value = value.strip()
            if field and field.max_length and len(value) > field.max_length:
                raise DomainError(
                    _("At most %(count)d characters.", count=field.max_length), name
                )
            values[name] = value
    if "email" in values:
        values["email"] = normalise_email(values["email"])
        _check_unique_email(values["email"], customer)
    if values.get("customer_number"):
        _check_unique_number(values["customer_number"], customer)
    elif "customer_number" in values:
        values["customer_number"] = None
    if "birth_date" in values:
        check_birth_date(values["birth_date"])
    for name in ("language", "billing_country", "shipping_country", "gender"):
        if name in values and not values[name]:
            values[name] = None
    if values.get("language"):
        values["language"] = check_language(values["language"])
    if values.get("gender"):
        values["gender"] = Gender(values["gender"])
    if "customer_type" in values:
        values["customer_type"] = CustomerType(values["customer_type"] or "private")
    kind = values.get("customer_type", customer.customer_type if customer else None)
    if kind == CustomerType.BUSINESS:
        if "company_name" in values and not values["company_name"]:
            raise DomainError(_("A business customer needs a company name."), "company_name")
        if values.get("vat_number"):
            country = values.get("billing_country", customer and customer.billing_country)
            values["vat_number"] = normalise_vat_number(values["vat_number"], country)
    return values


def _check_unique_email(email: str, customer: Customer | None) -> None:
    query = select(Customer.id).where(Customer.email_key == email_key(email))
    other = db.session.scalar(query)
    if other is not None and (customer is None or other != customer.id):
        raise DomainError(
            _("Another customer (ID %(id)d) already has this e-mail address.", id=other), "email"
        )


def _check_unique_number(number: str, customer: Customer | None) -> None:
    other = db.session.scalar(select(Customer.id).where(Customer.customer_number == number))
    if other is not None and (customer is None or other != customer.id):
        raise DomainError(
            _("Another customer (ID %(id)d) already has this customer number.", id=other),
            "customer_number",
        )


def _groups(names_or_ids: list[Any]) -> list[CustomerGroup]:
    if not names_or_ids:
        return []
    ids = [int(v) for v in names_or_ids]
    return list(db.session.scalars(select(CustomerGroup).where(CustomerGroup.id.in_(ids))))


def may_approve(actor) -> bool:
    """The approval rule, for the form and for imports: only a member with the right (or the
    operator at the command line: no member) approves a customer or sets one waiting. Anyone
    else's new customers wait for approval, and an existing customer keeps his."""
    return actor is None or may(actor, Right.APPROVE_CUSTOMERS)


def _check_approval_right(values: dict[str, Any], customer: Customer | None, actor) -> None:
    """The form's side of may_approve: a value it may not set is refused."""
    if may_approve(actor):
        return
    if customer is None:
        if values.get("approved"):
            raise DomainError(_("Only an administrator can approve a customer."), "approved")
        values["approved"] = False
    elif "approved" in values and values["approved"] != customer.approved:
        raise DomainError(_("Only an administrator can approve a customer."), "approved")


def _apply(customer: Customer, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in ("groups", "newsletter"):
            continue
        setattr(customer, name, value)
    if "email" in values:
        customer.email_key = email_key(values["email"])
    if "groups" in values:
        customer.groups = _groups(values["groups"])


def create_customer(
    data: dict[str, Any], *, actor: StaffUser | None, source: str = "staff"
) -> Customer:
    """Add a customer to the register; no mail is sent (the customer has no password yet).
    Without a customer number it gets the next one of the store's series."""
    values = _clean(data, None)
    _check_approval_right(values, None, actor)
    if not values.get("customer_number"):
        values["customer_number"] = take_number(db.session, get_settings())  # the series
    customer = Customer(created_by_id=actor and actor.id, updated_by_id=actor and actor.id)
    _apply(customer, values)
    db.session.add(customer)
    try:
        db.session.flush()
    except IntegrityError:
        # A colleague stored the same e-mail or number between our check and our insert.
        db.session.rollback()
        _check_unique_email(values["email"], None)
        if values.get("customer_number"):
            _check_unique_number(values["customer_number"], None)
        raise
    if values.get("newsletter"):
        set_newsletter(customer, True, actor=actor, source=source)
    record_event(
        "customer.created", "customer", customer.id, actor=actor, source=source,
        changes={k: [None, json_value(v)] for k, v in customer_values(customer).items()
                 if v not in (None, "", [], False)},
    )
    return customer


def update_customer(
    customer: Customer,
    data: dict[str, Any],
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    source: str = "staff",
) -> dict[str, list[Any]]:
    """Change a customer; returns {field: [old, new]} of what changed.

    With `expected_version` (the version the form was opened at), a save over a colleague's
    newer one raises EditConflict instead of overwriting it.
    """
    if expected_version is not None and customer.version != expected_version:
        raise EditConflict(customer, _changed_since(customer, expected_version))
    before = customer_values(customer)
    values = _clean(data, customer)
    _check_approval_right(values, customer, actor)
    _apply(customer, values)
    after = customer_values(customer)
    after["newsletter"] = values.get("newsletter", before["newsletter"])
    changes = {
        name: [json_value(before[name]), json_value(after[name])]
        for name in after
        if before.get(name) != after[name]
    }
    if not changes:
        return {}
    if "newsletter" in changes:
        set_newsletter(customer, after["newsletter"], actor=actor, source=source, audit=False)
    customer.updated_at = utcnow()
    customer.updated_by_id = actor.id if actor else None
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Customer, customer.id)
        raise EditConflict(current, []) from None
    record_event("customer.updated", "customer", customer.id, actor=actor, source=source,
                 changes=changes)
    return changes


def _changed_since(customer: Customer, version: int) -> list[str]:
    """The fields colleagues changed after `version`, from the audit history."""
    from ..audit import AuditEvent

    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "customer", AuditEvent.object_id == customer.id)
        .order_by(AuditEvent.id.desc())
        .limit(max(customer.version - version, 1))
    )
    names: list[str] = []
    for event in events:
        names.extend(name for name in event.changes if name not in names)
    return names


def set_newsletter(
    customer: Customer,
    value: bool,
    *,
    actor: StaffUser | None,
    source: str = "staff",
    wording: str | None = None,
    wording_language: str | None = None,
    audit: bool = True,
) -> bool:
    """Record a change of marketing consent with the wording agreed to: the given one, else the
    store's statement in the customer's language; False if unchanged."""
    if customer.newsletter == value:
        return False
    old = customer.newsletter
    customer.newsletter = value
    customer.newsletter_changed_at = utcnow()
    language, text = wording_for(customer.language)
    if wording is not None:
        language, text = wording_language or "", wording
    db.session.add(
        ConsentEvent(
            customer_id=customer.id,
            subscribed=value,
            source=ConsentSource(source),
            actor_id=actor.id if actor else None,
            wording=text,
            wording_language=language,
        )
    )
    if audit and old != value:
        customer.updated_at = utcnow()
        record_event("customer.updated", "customer", customer.id, actor=actor, source=source,
                     changes={"newsletter": [old, value]})
    return True
