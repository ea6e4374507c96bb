"""The privacy log: the record an auditor asks for, at /customers/privacy-log (admins only).

Every privacy request answered (a customer's data handed out, a customer erased at their
request) and every customer removed for good from the trash, newest first, as their audit
events keep them: when, by whom, which former customer id (never handed out again), and, on
SQLite, when the older copies the database's files kept were cleared too (scrub.py). Nothing
personal is shown: after forgetting, the events hold no values.
"""

from datetime import datetime
from typing import NamedTuple

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import PRIVACY_EXPORTED, AuditEvent
from ..auth.rights import Right, requires
from ..extensions import db
from ..routing import requested_page
from .blueprint import bp
from .models import Customer
from .scrub import FORGETTING_ACTIONS, GONE_KEY, SCRUB_KEY

ERASED, PURGED = FORGETTING_ACTIONS
ACTION_LABELS = {
    PRIVACY_EXPORTED: _l("Data handed out (privacy request)"),
    ERASED: _l("Erased at the customer’s request"),
    PURGED: _l("Removed for good from the trash"),
}
PER_PAGE = 50
SETTINGS_LINK = ("customers.privacy_log", _l("Privacy log"))


class Entry(NamedTuple):
    event: AuditEvent
    customer_exists: bool
    # For a forgetting on SQLite: when no copy was left in the files, or "waiting" for the scrub.
    copies_cleared: datetime | str | None


def _copies_cleared(event: AuditEvent) -> datetime | str | None:
    changes = event.changes or {}
    if GONE_KEY in changes:
        return datetime.fromisoformat(changes[GONE_KEY])
    return "waiting" if changes.get(SCRUB_KEY) is not None else None


@bp.route("/privacy-log")
@requires(Right.PRIVACY_REQUESTS)
def privacy_log():
    action = request.args.get("action", "")
    query = select(AuditEvent).where(AuditEvent.object_type == "customer")
    if action in ACTION_LABELS:
        query = query.where(AuditEvent.action == action)
    else:
        query = query.where(AuditEvent.action.in_(list(ACTION_LABELS)))
    pagination = db.paginate(query.order_by(AuditEvent.id.desc()), page=requested_page(),
                             per_page=PER_PAGE, error_out=False)
    shown = {event.object_id for event in pagination.items}
    still_here = set(db.session.scalars(select(Customer.id).where(Customer.id.in_(shown))))
    entries = [Entry(event, event.object_id in still_here, _copies_cleared(event))
               for event in pagination.items]
    return render_template("customers/privacy_log.html", pagination=pagination, entries=entries,
                           action=action, labels=ACTION_LABELS)
