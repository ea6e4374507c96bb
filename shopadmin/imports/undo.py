"""Undo an import: restore updated customers, remove created ones, unless changed since.

A customer whose version is no longer the one the import left was changed by someone (or
something) after the import; it is listed in the job's undo_skipped and not overwritten.
It runs in the session it is given (the job's), with no app: the task passes db.session.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.orm import Session, scoped_session

from ..audit import AuditEvent
from ..batching import batched
from ..bulk import execute_many
from ..customers.models import Customer, customer_group_members
from ..customers.search import reindex_customers
from ..database import utcnow
from ..text import email_key
from .models import ImportChange, ImportJob, ImportStatus
from .plan import from_json

CUSTOMERS, MEMBERS = Customer.__table__, customer_group_members
UNDO_BATCH = 100  # undo records a batch: updated customers, or batches of created ones
SKIPPED_KEPT = 1000  # the undo page lists this many changed-since customers at most


def undo_changes(session: Session | scoped_session[Any], job: ImportJob,
                 checkpoint: Callable[[], None] | None = None,
                 before_commit: Callable[[], None] | None = None) -> int:
    """Take the import's changes back, batch by batch (commits the session). Returns the
    customers restored. `before_commit` is called in each batch's transaction before its
    commit, `checkpoint` after it (either may raise to stop the run).

    Each batch's undo records are deleted with the batch, so an undo cut short (the worker
    died) goes on where it stopped when it runs again.
    """
    restored = 0
    while True:
        changes = list(session.scalars(
            select(ImportChange).where(ImportChange.import_id == job.id)
            .order_by(ImportChange.id).limit(UNDO_BATCH)))
        if not changes:
            break
        skipped: list[dict] = []
        restored += _undo_batch(session.connection(), job, changes, skipped)
        session.execute(delete(ImportChange).where(
            ImportChange.id.in_([change.id for change in changes])))
        if skipped and len(job.undo_skipped) < SKIPPED_KEPT:
            job.undo_skipped = [*job.undo_skipped, *skipped][:SKIPPED_KEPT]
        job.heartbeat_at = utcnow()
        if before_commit is not None:
            before_commit()
        session.commit()
        if checkpoint is not None:
            checkpoint()
    job.status, job.task, job.undone_at = ImportStatus.UNDONE, None, utcnow()
    session.commit()
    return restored


def _undo_batch(connection: Connection, job: ImportJob, changes: list[ImportChange],
                skipped: list[dict]) -> int:
    """Undo some records: the updates among them, and the created customers they list."""
    updated = [c for c in changes if c.customer_id is not None]
    versions: dict[int, int] = {
        c.customer_id: c.version_after for c in updated if c.customer_id is not None}
    for change in changes:
        versions.update((customer_id, 1) for customer_id in change.created_ids)
    current: dict[int, Any] = {}
    ids = list(versions)
    for batch in batched(ids, 500):
        current.update((row.id, row) for row in connection.execute(
            select(CUSTOMERS.c.id, CUSTOMERS.c.version, CUSTOMERS.c.email,
                   CUSTOMERS.c.first_name, CUSTOMERS.c.last_name)
            .where(CUSTOMERS.c.id.in_(batch))))
    untouched: set[int] = set()
    for customer_id, version in versions.items():
        now = current.get(customer_id)
        if now is None:
            continue  # deleted since: nothing to take back
        if now.version != version:
            skipped.append({"id": now.id, "email": now.email,
                            "name": f"{now.first_name} {now.last_name}".strip()})
            continue
        untouched.add(customer_id)
    to_delete = [i for c in changes for i in c.created_ids if i in untouched]
    to_restore = [c for c in updated if c.customer_id in untouched]
    for doomed in batched(to_delete, 500):
        connection.execute(delete(CUSTOMERS).where(CUSTOMERS.c.id.in_(doomed)))
    for change in to_restore:
        values = {name: from_json(name, value) for name, value in change.previous.items()}
        if "email" in values:
            values["email_key"] = email_key(values["email"])
        connection.execute(
            update(CUSTOMERS).where(CUSTOMERS.c.id == change.customer_id)
            .values(**values, version=change.version_after + 1, updated_at=utcnow(),
                    updated_by_id=job.created_by_id))
        if change.added_group_ids:
            connection.execute(delete(MEMBERS).where(and_(
                MEMBERS.c.customer_id == change.customer_id,
                MEMBERS.c.group_id.in_(change.added_group_ids))))
    _audit(connection, job, to_delete, to_restore)
    reindex_customers(sorted(untouched), connection)  # written by Core: no flush hook
    return len(to_delete) + len(to_restore)


def _audit(connection: Connection, job: ImportJob, deleted: list[int],
           restored: list[ImportChange]) -> None:
    now = utcnow()
    base = {"created_at": now, "actor_id": job.created_by_id, "source": "import",
            "object_type": "customer"}
    undone: dict[str, Any] = {"import_id": job.id, "undo": True}
    rows = [{**base, "action": "customer.deleted", "object_id": customer_id, "changes": undone}
            for customer_id in deleted]
    rows += [{**base, "action": "customer.updated", "object_id": change.customer_id,
              "changes": {**undone, "restored": change.previous}} for change in restored]
    if rows:
        execute_many(connection, insert(AuditEvent.__table__), rows, cache_key="undo-audit")
