"""Discarding an upload that was never applied: its file and its rows' problems go, the job
stays in the list as discarded, and an audit event says who did it and when."""

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..audit import AuditEvent, record_event
from ..auth.models import StaffUser
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from .models import ImportChange, ImportJob, ImportRowResult, ImportStatus
from .services import delete_upload

DISCARDABLE = (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.PREVIEWED,
               ImportStatus.FAILED)


def may_discard(job: ImportJob) -> bool:
    """An upload nothing was written from: not applied, not running, and (failed) without an
    undo record, which every written customer has."""
    if job.status not in DISCARDABLE or job.running:
        return False
    return job.status != ImportStatus.FAILED or db.session.scalar(
        select(ImportChange.id).where(ImportChange.import_id == job.id).limit(1)) is None


def discard_upload(job: ImportJob, actor: StaffUser | None) -> None:
    if not may_discard(job):
        raise DomainError(_("Only an upload that was never applied can be discarded."))
    delete_upload(job)
    db.session.execute(delete(ImportRowResult).where(ImportRowResult.import_id == job.id),
                       execution_options={"synchronize_session": False})
    record_event("import.discarded", "import", job.id, actor=actor,
                 changes={"file": job.original_name, "status": job.status.value})
    job.file_path, job.status, job.finished_at = "", ImportStatus.DISCARDED, utcnow()
    job.preview, job.rejected, job.warned = {}, 0, 0


def discard_record(job: ImportJob) -> AuditEvent | None:
    """The audit event of a discarded upload: who discarded it, and when."""
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "import.discarded", AuditEvent.object_type == "import",
        AuditEvent.object_id == job.id).order_by(AuditEvent.id.desc()).limit(1))
