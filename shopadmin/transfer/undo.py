"""Undo an import: restore updated customers, remove created ones, unless changed since.

A customer whose version is no longer the one the import left was changed by someone (or
something) after the import; it is listed in the job's undo_skipped and not overwritten.
"""

from sqlalchemy import and_, delete, insert, select, update

from ..audit import AuditEvent
from ..database import utcnow
from ..extensions import db
from .import_models import ImportChange, ImportJob, ImportStatus
from .plan import CUSTOMERS, from_json
from .write import MEMBERS

UNDO_BATCH = 1000
SKIPPED_KEPT = 1000  # the undo page lists this many changed-since customers at most


def undo_changes(job: ImportJob) -> int:
    """Take the import's changes back, batch by batch (commits). Returns customers restored.

    Each batch's undo records are deleted with the batch, so an undo cut short (the worker
    died) goes on where it stopped when it runs again.
    """
    restored = 0
    while True:
        changes = list(db.session.scalars(
            select(ImportChange).where(ImportChange.import_id == job.id)
            .order_by(ImportChange.id).limit(UNDO_BATCH)))
        if not changes:
            break
        skipped: list[dict] = []
        restored += _undo_batch(job, changes, skipped)
        db.session.execute(delete(ImportChange).where(
            ImportChange.id.in_([change.id for change in changes])))
        if skipped and len(job.undo_skipped) < SKIPPED_KEPT:
            job.undo_skipped = [*job.undo_skipped, *skipped][:SKIPPED_KEPT]
        job.heartbeat_at = utcnow()
        db.session.commit()
    job.status, job.task, job.undone_at = ImportStatus.UNDONE, None, utcnow()
    db.session.commit()
    return restored


def _undo_batch(job: ImportJob, changes: list[ImportChange], skipped: list[dict]) -> int:
    ids = [c.customer_id for c in changes]
    current = {row.id: row for row in db.session.execute(
        select(CUSTOMERS.c.id, CUSTOMERS.c.version, CUSTOMERS.c.email, CUSTOMERS.c.first_name,
               CUSTOMERS.c.last_name).where(CUSTOMERS.c.id.in_(ids)))}
    to_delete, to_restore = [], []
    for change in changes:
        now = current.get(change.customer_id)
        if now is None:
            continue  # deleted since: nothing to take back
        if now.version != change.version_after:
            skipped.append({"id": now.id, "email": now.email,
                            "name": f"{now.first_name} {now.last_name}".strip(),
                            "created": change.created})
            continue
        (to_delete if change.created else to_restore).append(change)
    if to_delete:
        db.session.execute(delete(CUSTOMERS).where(
            CUSTOMERS.c.id.in_([c.customer_id for c in to_delete])))
    for change in to_restore:
        values = {name: from_json(name, value) for name, value in change.previous.items()}
        if "email" in values:
            values["email_key"] = values["email"].lower()
        db.session.execute(
            update(CUSTOMERS).where(CUSTOMERS.c.id == change.customer_id)
            .values(**values, version=change.version_after + 1, updated_at=utcnow(),
                    updated_by_id=job.created_by_id))
        if change.added_group_ids:
            db.session.execute(delete(MEMBERS).where(and_(
                MEMBERS.c.customer_id == change.customer_id,
                MEMBERS.c.group_id.in_(change.added_group_ids))))
    _audit(job, to_delete, to_restore)
    from .pipeline import _reindex

    _reindex([c.customer_id for c in to_delete + to_restore])
    return len(to_delete) + len(to_restore)


def _audit(job: ImportJob, deleted: list[ImportChange], restored: list[ImportChange]) -> None:
    now = utcnow()
    rows = [{"created_at": now, "actor_id": job.created_by_id, "source": "import",
             "action": "customer.deleted" if change.created else "customer.updated",
             "object_type": "customer", "object_id": change.customer_id,
             "changes": {"import_id": job.id, "undo": True,
                         **({} if change.created else {"restored": change.previous})}}
            for change in deleted + restored]
    if rows:
        db.session.execute(insert(AuditEvent.__table__), rows)

