"""Background tasks of the import. Thin: load the job row, call the pipeline, nothing more.

Huey loses a task whose worker dies; the job row does not. `resume_stale_imports` runs every
minute and on worker start, and queues again every import whose heartbeat has stopped.
"""

import logging

from huey import crontab

from ..extensions import db, huey
from ..jobs import job
from .import_models import ImportJob, ImportTask

log = logging.getLogger(__name__)


@job()
def run_import_task(import_id: int, resume: bool = False) -> None:
    from .pipeline import run_import
    from .undo import undo_changes

    import_job = db.session.get(ImportJob, import_id)
    if import_job is None or import_job.task is None:
        return  # done or dropped meanwhile
    if import_job.task == ImportTask.UNDO:
        try:
            undo_changes(import_job)
        except Exception as error:  # noqa: BLE001  (recorded on the job; the log says why)
            log.exception("undo of import %s failed", import_id)
            db.session.rollback()
            import_job.task, import_job.error = None, str(error)
            db.session.commit()
        return
    try:
        run_import(import_job, dry_run=import_job.task == ImportTask.PREVIEW, resume=resume)
    except Exception:  # noqa: BLE001  (the job row says failed; the log says why)
        log.exception("import %s failed", import_id)


def resume_stale(now=None) -> list[int]:
    """Queue again the imports whose worker has died (commits). Returns their ids."""
    from sqlalchemy import update

    from ..database import utcnow
    from .pipeline import STALE_AFTER

    now = now or utcnow()
    stale = db.session.scalars(db.select(ImportJob.id).where(
        ImportJob.task.is_not(None), ImportJob.heartbeat_at < now - STALE_AFTER)).all()
    resumed = []
    for import_id in stale:
        # Claim it atomically, so that two workers starting together resume it once.
        claimed = db.session.execute(
            update(ImportJob).where(ImportJob.id == import_id,
                                    ImportJob.heartbeat_at < now - STALE_AFTER)
            .values(heartbeat_at=now))
        if claimed.rowcount == 1:
            resumed.append(import_id)
    db.session.commit()
    for import_id in resumed:
        log.warning("import %s: worker gone, resuming after the last committed batch", import_id)
        run_import_task(import_id, resume=True)
    return resumed


@job(periodic=crontab(minute="*"))
def resume_stale_imports() -> None:
    resume_stale()


@huey.on_startup()
def _resume_on_start() -> None:
    # Best effort: the app may not be bound in a consumer started without our CLI.
    from ..jobs import _app

    if _app is not None:
        with _app.app_context():
            try:
                resume_stale()
            finally:
                db.session.remove()
