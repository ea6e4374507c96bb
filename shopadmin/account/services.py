"""What a customer does on the public pages: set a password with a link, ask for a new link.
Services flush; the views commit."""

from datetime import datetime

from ..audit import record_event
from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..notifications.catalog import PASSWORD_CHANGED, PASSWORD_RESET
from ..notifications.services import queue_notification
from ..passwords import check_password, hash_password
from ..settings.services import get_setting
from ..text import email_key
from . import tokens


class LinkNotUsable(Exception):
    """The link is unknown, used, expired or replaced: one answer for all of them."""


def set_password_with_link(token: str | None, password: str, *, language: str | None = None,
                           now: datetime | None = None) -> Customer:
    """Check the password, use the link up and set the password; the customer then gets the
    Password changed notice, in `language` (the page's) if the store writes mails in it, else
    in the link's. Signs nobody in. Raises DomainError for a password that is not
    accepted (the link stays usable) and LinkNotUsable when the link cannot be used."""
    now = now or utcnow()
    row = tokens.find_usable(token, now=now)
    if row is None:
        raise LinkNotUsable()
    customer = db.session.get_one(Customer, row.customer_id)  # a usable link's customer
    check_password(password, email=customer.email)
    used = tokens.consume_token(token, now=now)
    if used is None:
        raise LinkNotUsable()
    customer.password_hash = hash_password(password)
    customer.password_set_at = now
    record_event("password_set", "customer", customer.id, source="storefront",
                 changes={"link": used.purpose})
    if language not in get_setting("languages"):
        language = used.language
    queue_notification(customer, PASSWORD_CHANGED, language=language)
    db.session.flush()
    return customer


def link_language(token: str | None) -> str | None:
    """The language of the mail that carried a usable link (the page opens in it)."""
    row = tokens.find_usable(token)
    return row.language if row is not None else None


def request_password_link(email: str) -> None:
    """Mail a link to the customer with this address, if there is one; the visitor learns
    nothing either way. The mail goes to the stored address, never to what was typed."""
    key = email_key(email)
    if not key or len(key) > 254:
        return
    customer = db.session.scalar(
        db.select(Customer).where(Customer.email_key == key, Customer.deleted_at.is_(None))
    )
    if customer is None:
        return
    queue_notification(customer, PASSWORD_RESET)
