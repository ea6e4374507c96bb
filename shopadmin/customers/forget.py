"""Forgetting customers: the one way a customer leaves the register for good.

Erasure on request, emptying the trash and the daily purge of expired trash all come here.
Every part of the back office that keeps something about a customer adds an eraser to the app's
registry (`add_eraser(fn)`, fn(gone: Forgotten)) that removes or strips it: orders keep their lines
and totals, mails stay counted in their batches, import records and files go. Audit events
about the customers lose their recorded values, and one new event per customer says that it
happened, naming only the former id, which is never handed out again. On SQLite a background
scrub (scrub.py) then clears the older copies the database's files keep, and that event records
when it was done.

Erasure on request also keeps a keyed hash of the address (`ErasedAddress`), so that an old
file or the shop bringing it back is stopped and shown to staff.
"""

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, insert, select, update

from ..audit import AuditEvent, record_event
from ..extensions import db
from ..registry import registry
from ..text import email_key
from .models import Customer, ErasedAddress
from .scrub import SCRUB_KEY, join_scrub, queue_opened_scrubs


@dataclass(frozen=True)
class Forgotten:
    """The customers being forgotten: their ids and their e-mail addresses (lower case)."""

    ids: list[int]
    emails: set[str]


def address_digest(email: str, secret: str | bytes | None = None) -> str:
    """The keyed hash under which an erased address is remembered (keyed with `secret`, by
    default the app's SECRET_KEY)."""
    secret = current_app.config["SECRET_KEY"] if secret is None else secret
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(secret, email_key(email).encode(), hashlib.sha256).hexdigest()


def erased_digests() -> frozenset[str]:
    """Every remembered erased address (a few, or a few thousand), for checking many rows."""
    return frozenset(db.session.scalars(select(ErasedAddress.digest)))


def was_erased(email: str) -> bool:
    """The address belonged to a customer erased at their request."""
    digest = address_digest(email)
    return db.session.scalar(
        select(ErasedAddress.id).where(ErasedAddress.digest == digest).limit(1)) is not None


def commit_forgetting() -> None:
    """Commit the forgetting, and queue the scrub that will make sure the database's files
    keep no older copy of it (scrub.py; the request does not wait for it)."""
    db.session.commit()
    queue_opened_scrubs()


def forget_customers(customer_ids: list[int], *, actor, action: str,
                     remember_addresses: bool = False) -> list[int]:
    """Remove the customers and everything personal held about them; returns the ids removed
    by this call (a colleague's simultaneous call may have removed some already).

    Flushes; the caller commits with commit_forgetting(). Give at most a thousand ids at a
    time."""
    rows = db.session.execute(select(Customer.id, Customer.email_key)
                              .where(Customer.id.in_(customer_ids))).all()
    if not rows:
        return []
    gone = Forgotten([row.id for row in rows], {row.email_key for row in rows})
    for eraser in registry().erasers:
        eraser(gone)
    options = {"synchronize_session": False}
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.object_type == "customer", AuditEvent.object_id.in_(gone.ids))
        .values(changes={}), execution_options=options)
    removed = db.session.execute(delete(Customer).where(Customer.id.in_(gone.ids)),
                                 execution_options=options).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    identity = db.session.identity_map
    for key in [k for k in list(identity.keys()) if k[0] is Customer and k[1][0] in gone.ids]:
        db.session.expunge(identity[key])  # by key: reading the gone row's id would reload it
    if removed == 0:
        return []  # a colleague's erasure did the whole job a moment ago
    if remember_addresses:
        db.session.execute(insert(ErasedAddress),
                           [{"digest": address_digest(email)} for email in gone.emails])
    source = "staff" if actor else "system"
    scrub_id = join_scrub(len(gone.ids))
    changes = {SCRUB_KEY: scrub_id} if scrub_id is not None else {}
    for customer_id in gone.ids:
        record_event(action, "customer", customer_id, actor=actor, source=source,
                     changes=changes)
    db.session.flush()
    return gone.ids
