"""Background tasks of the import. Thin: claim the job, call the pipeline (or the undo), settle.

The job is tracked (see tracking.py): a worker that dies mid-import leaves a job whose heartbeat
stops, and the sweep queues it again; the run resumes after the last committed batch.
"""

import logging

from .. import tracking
from ..database import utcnow
from ..extensions import db
from ..jobs import job
from .models import ImportJob, ImportStatus, ImportTask

log = logging.getLogger(__name__)
KIND = "import"


@job()
def run_import_task(import_id: int, resume: bool = False) -> None:
    from .pipeline import run_import
    from .undo import undo_changes

    # Nothing to do when a live run holds it, or it is done or dropped meanwhile.
    taken = tracking.take_up(ImportJob, import_id, lambda found: found.task is None)
    if taken is None:
        return
    import_job, token = taken

    def checkpoint() -> None:
        tracking.checkpoint(KIND, import_id, token)

    def holds() -> bool:
        return tracking.still_holds(ImportJob, import_id, token)

    try:
        with tracking.beating(ImportJob, import_id, token):
            if import_job.task == ImportTask.UNDO:
                _undo(import_job, undo_changes, checkpoint, holds)
            else:
                try:
                    run_import(import_job, dry_run=import_job.task == ImportTask.PREVIEW,
                               resume=resume or import_job.rows_done > 0, checkpoint=checkpoint,
                               holds=holds)
                except tracking.HandedBack:
                    raise
                except Exception:  # noqa: BLE001  (the job row says failed; the log says why)
                    log.exception("import %s failed", import_id)
    except tracking.HandedBack:
        return
    db.session.rollback()
    tracking.release(ImportJob, import_id, token)
    db.session.commit()


def _undo(import_job: ImportJob, undo_changes, checkpoint, holds) -> None:
    def fence() -> None:  # (before each commit: a batch is undone by one run only)
        if not holds():
            db.session.rollback()
            raise tracking.HandedBack()

    try:
        undo_changes(db.session, import_job, checkpoint=checkpoint, before_commit=fence)
    except tracking.HandedBack:
        raise
    except Exception as error:  # noqa: BLE001  (recorded on the job; the log says why)
        log.exception("undo of import %s failed", import_job.id)
        db.session.rollback()
        import_job.task, import_job.error = None, str(error)
        db.session.commit()


def _fail(import_id: int, error: str) -> None:
    db.session.execute(db.update(ImportJob).where(ImportJob.id == import_id).values(
        status=ImportStatus.FAILED, task=None, finished_at=utcnow(), runner_token=None,
        error=error))
    db.session.commit()


tracking.register_kind(KIND, tracking.Kind(
    ImportJob, active=lambda: ImportJob.task.is_not(None),
    resume=lambda import_id: run_import_task(import_id, resume=True), fail=_fail))
