"""Bulk actions on customers: a registry of actions, run at once or as a background job.

An action works on a list of customer ids in batches with Core statements and writes one audit
event per changed customer. Up to INLINE_LIMIT customers the request does the work; above it a
BulkJob row keeps the state and progress, and the worker does it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, delete, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.local import LocalProxy

from .. import tracking
from ..account.tokens import revoke_tokens
from ..audit import AuditEvent
from ..auth.models import StaffUser
from ..auth.rights import Right, may
from ..batching import batched
from ..database import UTCDateTime, utcnow
from ..extensions import Model, db
from ..jobs import job
from ..registry import registry
from ..settings.services import get_settings
from ..tracking import TrackedJob
from .consent import wording_for
from .models import ConsentEvent, ConsentSource, Customer, customer_group_members

INLINE_LIMIT = 1000
BATCH = 500
customers = Customer.__table__


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: Any
    run: Callable[[list[int], StaffUser, dict], int]  # returns how many customers changed
    right: Right | None = None  # the right it needs (auth/rights.py); None: everyone's
    needs_group: bool = False
    danger: bool = False
    # An action that starts work of its own (a mail batch, say) instead of changing rows here:
    # start(ids, actor, params) returns the address of the page that follows that work.
    start: Callable[[list[int], StaffUser, dict], str] | None = None
    # What the confirmation shows besides the count: details(ids) gives the template's
    # `breakdown` (the password mails' languages, say).
    details: Callable[[list[int]], dict] | None = None


def _audit(ids: list[int], actor: StaffUser, changes: dict, action="customer.updated") -> None:
    if ids:
        db.session.execute(insert(AuditEvent), [
            {"action": action, "object_type": "customer", "object_id": cid,
             "actor_id": actor.id, "source": "staff", "changes": changes,
             "created_at": utcnow()}
            for cid in ids
        ])


def _consent_rows(ids: list[int], value: bool, actor: StaffUser, now: datetime) -> list[dict]:
    """A consent event per customer with the statement in the customer's language."""
    settings = get_settings()
    languages = dict(db.session.execute(
        select(Customer.id, Customer.language).where(Customer.id.in_(ids))).all())
    rows = []
    for cid in ids:
        language, text = wording_for(languages.get(cid), settings)
        rows.append({"customer_id": cid, "subscribed": value, "source": ConsentSource.STAFF,
                     "actor_id": actor.id, "wording": text, "wording_language": language,
                     "created_at": now})
    return rows


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
            db.session.execute(insert(ConsentEvent), _consent_rows(changed, value, actor, now))
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


# The current app's bulk actions by key (its registry's; other parts add theirs there).
ACTIONS: Mapping[str, BulkAction] = LocalProxy(  # type: ignore[assignment]
    lambda: registry().bulk_actions)

OWN_ACTIONS = (
    BulkAction("approve", _l("Approve"), _set_flag("approved", True),
               right=Right.APPROVE_CUSTOMERS),
    BulkAction("wait", _l("Set waiting for approval"), _set_flag("approved", False),
               right=Right.APPROVE_CUSTOMERS),
    BulkAction("newsletter_on", _l("Newsletter on"), _set_flag("newsletter", True)),
    BulkAction("newsletter_off", _l("Newsletter off"), _set_flag("newsletter", False)),
    BulkAction("add_group", _l("Add to group"), _group_membership(True), needs_group=True),
    BulkAction("remove_group", _l("Remove from group"), _group_membership(False),
               needs_group=True),
    BulkAction("delete", _l("Delete"), _delete, right=Right.REMOVE_CUSTOMERS, danger=True),
)


def init_app(app) -> None:
    """The register's own bulk actions (other parts add theirs after them)."""
    for action in OWN_ACTIONS:
        registry(app).add_bulk_action(action)


class BulkJob(TrackedJob, Model):
    """A bulk action too large for one request: what it works on, its state and progress.

    The customers are described, not listed, when the action is on everything the list's
    search matches: `query` holds the list's arguments and the worker walks the matching
    customers by id after `last_id`. A selection is kept as its ids.
    """

    __tablename__ = "customer_bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    customer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    query: Mapped[str | None] = mapped_column(Text)
    last_id: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def run_batches(action: BulkAction, ids: list[int], actor: StaffUser, params: dict) -> int:
    """The action on these customers now, BATCH at a time; returns how many it changed."""
    return sum(action.run(batch, actor, params) for batch in batched(ids, BATCH))


def perform(action_key: str, ids: list[int], actor: StaffUser, params: dict) -> BulkJob | int:
    """Run the action on a selection now (returns the number changed), or queue a BulkJob
    when it is large."""
    action = ACTIONS[action_key]
    if len(ids) <= INLINE_LIMIT:
        return run_batches(action, ids, actor, params)
    return _queue(BulkJob(actor_id=actor.id, action=action_key, params=params,
                          customer_ids=ids, total=len(ids)))


def perform_on_matching(action_key: str, query: str, total: int, actor: StaffUser,
                        params: dict) -> BulkJob | int:
    """The action on every customer the list's search `query` matches: at once when they are
    few, else queued, described by the query (the worker finds them in batches; the request
    lists none of them)."""
    if total <= INLINE_LIMIT:
        ids = list(db.session.scalars(_matching(query).order_by(Customer.id)))
        return run_batches(ACTIONS[action_key], ids, actor, params)
    return _queue(BulkJob(actor_id=actor.id, action=action_key, params=params, query=query,
                          total=total))


def _matching(query: str):
    """A select of the ids of the customers the list's query string matches."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from .listing import customer_query

    return customer_query(MultiDict(parse_qsl(query)))


def _queue(bulk_job: BulkJob) -> BulkJob:
    tracking.queued(bulk_job)
    db.session.add(bulk_job)
    db.session.flush()
    return bulk_job


def _next_batch(bulk_job: BulkJob) -> list[int]:
    """The next customers to work on: by id after the last one done."""
    if bulk_job.query is None:
        return bulk_job.customer_ids[bulk_job.done:bulk_job.done + BATCH]
    return list(db.session.scalars(_matching(bulk_job.query)
                                   .where(Customer.id > bulk_job.last_id)
                                   .order_by(Customer.id).limit(BATCH)))


# A job that ran its course, failed (it can be started again) or was stopped because its
# starter may no longer do what it does.
ENDED = ("finished", "failed", "stopped")


def allowed(actor: StaffUser, action: BulkAction) -> bool:
    """Whether this member of staff may do the action now: an active account with the right."""
    return actor.is_active and (action.right is None or may(actor, action.right))


@job()
def run_bulk_job(job_id: int) -> None:
    """Work a BulkJob from where it stopped; each batch commits with its progress."""
    taken = tracking.take_up(BulkJob, job_id, lambda found: found.status in ENDED)
    if taken is None:
        return
    bulk_job, token = taken
    bulk_job.status = "running"
    db.session.commit()
    actor = db.session.get_one(StaffUser, bulk_job.actor_id)  # the job goes with its actor
    action = ACTIONS[bulk_job.action]
    try:
        with tracking.beating(BulkJob, job_id, token):
            while ids := _next_batch(bulk_job):
                if not allowed(actor, action):  # (read again after every commit)
                    tracking.release(BulkJob, job_id, token, status="stopped",
                                     finished_at=utcnow())
                    db.session.commit()
                    return
                bulk_job.changed += action.run(ids, actor, bulk_job.params)
                bulk_job.done += len(ids)
                bulk_job.last_id = max(ids)
                if not tracking.still_holds(BulkJob, job_id, token):
                    # The sweep gave the job to another run meanwhile: that run does this batch.
                    db.session.rollback()
                    return
                db.session.commit()  # the batch and its progress together
                tracking.checkpoint(KIND, job_id, token)
    except tracking.HandedBack:
        return
    bulk_job.total = max(bulk_job.total, bulk_job.done)
    tracking.release(BulkJob, job_id, token, status="finished", finished_at=utcnow())
    db.session.commit()


def _fail(job_id: int, error: str) -> None:
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(
        status="failed", error=error, runner_token=None))
    db.session.commit()


def start_again(bulk_job: BulkJob) -> None:
    """A failed bulk job goes on after the last customer it did (commits)."""
    tracking.start_again(KIND, bulk_job.id, status="queued", error="")


KIND = "bulk"
tracking.register_kind(KIND, tracking.Kind(
    BulkJob, active=lambda: BulkJob.status.in_(("queued", "running")),
    resume=lambda job_id: run_bulk_job(job_id), fail=_fail))
