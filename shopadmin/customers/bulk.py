"""Bulk actions on customers: a registry of actions, run at once or as a background job.

An action works on a list of customer ids in batches with Core statements and writes one audit
event per changed customer. Up to INLINE_LIMIT customers the request does the work; above it a
BulkJob row keeps the state and progress, and the worker does it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, delete, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..account.tokens import revoke_tokens
from ..audit import AuditEvent
from ..auth.models import StaffUser
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..jobs import job
from ..settings.services import get_setting
from .models import ConsentEvent, ConsentSource, Customer, customer_group_members

INLINE_LIMIT = 1000
BATCH = 500
customers = Customer.__table__


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: Any
    run: Callable[[list[int], StaffUser, dict], int]  # returns how many customers changed
    admin_only: bool = False
    needs_group: bool = False
    danger: bool = False
    # An action that starts work of its own (a mail batch, say) instead of changing rows here:
    # start(ids, actor, params) returns the address of the page that follows that work.
    start: Callable[[list[int], StaffUser, dict], str] | None = None
    # What the confirmation shows besides the count: details(ids) gives the template's
    # `breakdown` (the password mails' languages, say).
    details: Callable[[list[int]], dict] | None = None


ACTIONS: dict[str, BulkAction] = {}


def register_action(action: BulkAction) -> None:
    ACTIONS[action.key] = action


def _audit(ids: list[int], actor: StaffUser, changes: dict, action="customer.updated") -> None:
    if ids:
        db.session.execute(insert(AuditEvent), [
            {"action": action, "object_type": "customer", "object_id": cid,
             "actor_id": actor.id, "source": "staff", "changes": changes,
             "created_at": utcnow()}
            for cid in ids
        ])


def _set_flag(column: str, value: bool) -> Callable:
    def run(ids: list[int], actor: StaffUser, params: dict) -> int:
        changed = list(db.session.scalars(
            select(Customer.id).where(Customer.id.in_(ids), customers.c[column].is_(not value))
        ))
        if not changed:
            return 0
        now = utcnow()
        values = {column: value, "updated_at": now, "updated_by_id": actor.id,
                  "version": customers.c.version + 1}
        if column == "newsletter":
            values["newsletter_changed_at"] = now
            wording = get_setting("newsletter_consent_text")
            db.session.execute(insert(ConsentEvent), [
                {"customer_id": cid, "subscribed": value, "source": ConsentSource.STAFF,
                 "actor_id": actor.id, "wording": wording, "created_at": now}
                for cid in changed
            ])
        db.session.execute(update(customers).where(customers.c.id.in_(changed)).values(values),
                           execution_options={"synchronize_session": False})
        _audit(changed, actor, {column: [not value, value]})
        return len(changed)
    return run


def _group_membership(add: bool) -> Callable:
    def run(ids: list[int], actor: StaffUser, params: dict) -> int:
        group_id = int(params["group"])
        members = customer_group_members.c
        present = set(db.session.scalars(
            select(members.customer_id).where(members.group_id == group_id,
                                              members.customer_id.in_(ids))
        ))
        changed = [cid for cid in ids if (cid not in present) == add]
        if not changed:
            return 0
        if add:
            db.session.execute(insert(customer_group_members),
                               [{"customer_id": cid, "group_id": group_id} for cid in changed])
        else:
            db.session.execute(delete(customer_group_members).where(
                members.group_id == group_id, members.customer_id.in_(changed)))
        name = params.get("group_name", str(group_id))
        _audit(changed, actor, {"groups": [[], [name]] if add else [[name], []]})
        return len(changed)
    return run


def _delete(ids: list[int], actor: StaffUser, params: dict) -> int:
    changed = list(db.session.scalars(
        select(Customer.id).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))))
    if changed:
        db.session.execute(
            update(customers).where(customers.c.id.in_(changed))
            .values(deleted_at=utcnow(), deleted_by_id=actor.id),
            execution_options={"synchronize_session": False},
        )
        revoke_tokens(changed)
        _audit(changed, actor, {}, action="customer.deleted")
    return len(changed)


for _action in (
    BulkAction("approve", _l("Approve"), _set_flag("approved", True), admin_only=True),
    BulkAction("wait", _l("Set waiting for approval"), _set_flag("approved", False),
               admin_only=True),
    BulkAction("newsletter_on", _l("Newsletter on"), _set_flag("newsletter", True)),
    BulkAction("newsletter_off", _l("Newsletter off"), _set_flag("newsletter", False)),
    BulkAction("add_group", _l("Add to group"), _group_membership(True), needs_group=True),
    BulkAction("remove_group", _l("Remove from group"), _group_membership(False),
               needs_group=True),
    BulkAction("delete", _l("Delete"), _delete, admin_only=True, danger=True),
):
    register_action(_action)


class BulkJob(db.Model):
    """A bulk action too large for one request: its state and progress live here."""

    __tablename__ = "customer_bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    customer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def run_batches(action: BulkAction, ids: list[int], actor: StaffUser, params: dict,
                progress: Callable[[int, int], None] | None = None, start: int = 0) -> int:
    changed = 0
    for offset in range(start, len(ids), BATCH):
        changed += action.run(ids[offset:offset + BATCH], actor, params)
        if progress:
            progress(offset + BATCH, changed)
    return changed


def perform(action_key: str, ids: list[int], actor: StaffUser, params: dict) -> BulkJob | int:
    """Run the action now (returns the number changed), or queue a BulkJob when it is large."""
    action = ACTIONS[action_key]
    if len(ids) <= INLINE_LIMIT:
        return run_batches(action, ids, actor, params)
    bulk_job = BulkJob(actor_id=actor.id, action=action_key, params=params, customer_ids=ids,
                       total=len(ids))
    db.session.add(bulk_job)
    db.session.flush()
    return bulk_job


@job(retries=2, retry_delay=5)
def run_bulk_job(job_id: int) -> None:
    """Work a BulkJob from where it stopped; each batch commits with its progress."""
    bulk_job = db.session.get(BulkJob, job_id)
    if bulk_job is None or bulk_job.status == "finished":
        return
    bulk_job.status = "running"
    db.session.commit()
    actor = db.session.get(StaffUser, bulk_job.actor_id)
    action = ACTIONS[bulk_job.action]

    def progress(done: int, changed: int) -> None:
        bulk_job.done = min(done, bulk_job.total)
        bulk_job.changed = changed_before + changed
        db.session.commit()

    changed_before = bulk_job.changed
    run_batches(action, bulk_job.customer_ids, actor, bulk_job.params, progress,
                start=bulk_job.done)
    bulk_job.status = "finished"
    bulk_job.finished_at = utcnow()
    db.session.commit()

