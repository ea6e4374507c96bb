"""Password reset tokens: the one place that knows them.

A token is 32 random bytes, handed out once inside a link and stored only as its SHA-256. It is
single-use (a conditional UPDATE decides which of two simultaneous uses wins), it expires after
the lifetime the store settings give its purpose, and it dies when a newer link is issued, when
the customer's password or e-mail address changes by any path (the token remembers a fingerprint
of both), and when the customer is deleted or erased (a restored customer needs a new link).
Every function takes `now`, so tests run them on a controlled clock. Functions flush; the caller
commits.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, update

from ..database import utcnow
from ..extensions import db
from ..settings.services import get_setting
from .models import PasswordResetToken

STAFF = "staff"    # sent by the shop: the account password mail
FORGOT = "forgot"  # asked for by the customer on the forgotten-password page
LIFETIME_SETTINGS = {STAFF: "reset_link_hours", FORGOT: "forgot_link_hours"}
RESET_PATH = "/account/reset/"


@dataclass(frozen=True)
class IssuedToken:
    token: str          # the secret, for the link; it is stored nowhere
    row: PasswordResetToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def customer_stamp(password_hash: str | None, email_key: str | None) -> str:
    """A fingerprint of the customer's current password hash (or of having none) and address.

    The e-mail belongs in it: a link mailed to an address the customer no longer has (staff
    corrected a typo, an import changed it) must not set the password of the account.
    """
    material = f"{password_hash or ''}\0{email_key or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _stamp_of(customer) -> str:
    return customer_stamp(customer.password_hash, customer.email_key)


def lifetime(purpose: str) -> timedelta:
    return timedelta(hours=float(get_setting(LIFETIME_SETTINGS[purpose])))


def reset_link(token: str, shop_url: str | None = None) -> str:
    """The link for a token, built from the configured shop URL, never from a request."""
    base = (shop_url or get_setting("shop_url")).rstrip("/")
    return f"{base}{RESET_PATH}{token}"


def issue_token(customer, *, purpose: str, language: str, now: datetime | None = None,
                valid_for: timedelta | None = None) -> IssuedToken:
    """A new link for the customer (anything with `id`, `password_hash` and `email_key`);
    earlier links of the customer stop working."""
    return issue_tokens([(customer, language)], purpose=purpose, now=now or utcnow(),
                        valid_for=valid_for)[0]


def issue_tokens(links: list[tuple[Any, str]], *, purpose: str, now: datetime,
                 valid_for: timedelta | None = None) -> list[IssuedToken]:
    """A new link for each (customer, language of its mail), as issue_token gives one: one
    statement ends the customers' earlier links, one stores the new ones (a mailing issues
    them a group at a time). Of two for the same customer, the later one is the open one."""
    if not links:
        return []
    revoke_tokens([customer.id for customer, _language in links], now=now)
    expires_at = now + (valid_for if valid_for is not None else lifetime(purpose))
    issued: list[IssuedToken] = []
    latest: dict[int, PasswordResetToken] = {}
    for customer, language in links:
        token = secrets.token_urlsafe(32)
        row = PasswordResetToken(
            customer_id=customer.id,
            token_hash=_digest(token),
            purpose=purpose,
            language=language,
            password_stamp=_stamp_of(customer),
            created_at=now,
            expires_at=expires_at,
        )
        if (earlier := latest.get(customer.id)) is not None:
            earlier.revoked_at = now
        latest[customer.id] = row
        issued.append(IssuedToken(token, row))
    db.session.add_all([link.row for link in issued])
    db.session.flush()
    return issued


def revoke_tokens(customer_id: int | list[int], *, now: datetime | None = None,
                  keep_id: int | None = None) -> None:
    """End every open link of the customer, or of the customers, (but `keep_id`)."""
    ids = customer_id if isinstance(customer_id, list) else [customer_id]
    statement = (
        update(PasswordResetToken)
        .where(PasswordResetToken.customer_id.in_(ids),
               PasswordResetToken.used_at.is_(None),
               PasswordResetToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if keep_id is not None:
        statement = statement.where(PasswordResetToken.id != keep_id)
    db.session.execute(statement)


def find_usable(token: str | None, *, now: datetime | None = None) -> PasswordResetToken | None:
    """The token's row if the link may still be used now, else None (unknown, used, expired,
    revoked, customer deleted, or password or address changed since): callers never learn
    which."""
    if not token or len(token) > 100:
        return None
    from ..customers.models import Customer

    now = now or utcnow()
    row = db.session.scalar(
        db.select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
    )
    if row is None or row.used_at is not None or row.revoked_at is not None:
        return None
    if row.expires_at <= now:
        return None
    customer = db.session.get(Customer, row.customer_id)
    if customer is None or customer.deleted_at is not None:
        return None
    if _stamp_of(customer) != row.password_stamp:
        return None
    return row


def consume_token(token: str | None, *,
                  now: datetime | None = None) -> PasswordResetToken | None:
    """Use the link up: its row if this call won it, else None. Of two simultaneous calls exactly
    one wins: the UPDATE only matches while the token is unused, and the database lets one
    transaction at a time change the row. The caller commits with the new password."""
    now = now or utcnow()
    row = find_usable(token, now=now)
    if row is None:
        return None
    result = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id,
               PasswordResetToken.used_at.is_(None),
               PasswordResetToken.revoked_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML: a CursorResult
        return None
    revoke_tokens(row.customer_id, now=now, keep_id=row.id)
    db.session.refresh(row)
    return row


def link_state(now: datetime):
    """A mail's link as the mail log and campaign counts show it, as a column expression over
    a (left-joined) PasswordResetToken: "none" (no link), "used", "expired", "replaced" (a newer
    link revoked it) or "open"."""
    return case(
        (PasswordResetToken.id.is_(None), "none"),
        (PasswordResetToken.used_at.is_not(None), "used"),
        (PasswordResetToken.expires_at <= now, "expired"),
        (PasswordResetToken.revoked_at.is_not(None), "replaced"),
        else_="open",
    )
