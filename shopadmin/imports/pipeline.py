"""The import's stages chained: read -> combine -> parse -> plan -> (write) in batches.

`run_import` is the one loop the preview (dry run), the background apply and the CLI share. It
commits after every batch together with the job's progress, so the job row always says how far
the import has durably got; a run started again on the same job resumes after that point.
An apply's batch of rows that only create customers comes planned by the reading side
(ready.py) and is written without planning here (ready_write.py), unless the register shows
that a row does more; the job file's reading is job_file.py's.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing, contextmanager, nullcontext

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import delete

from ..customers.forget import erased_digests
from ..customers.search import index_new, reindex_customers
from ..customers.terms import terms_text
from ..database import json_value, utcnow
from ..extensions import db
from ..settings.services import get_settings
from ..tracking import HandedBack, stopping
from . import deferred
from .checkpoints import checkpointed_beside
from .job_file import count_rows, defers_indexes, in_child, job_language, parsed_rows
from .models import ImportJob, ImportRowResult, ImportStatus, ImportTask
from .pending_list import merged_beside
from .plan import ImportOptions, Outcome, Planner
from .reading import TermsWanted, fewer_collections
from .ready import ReadyBatch
from .ready_write import ready_plan, write_ready
from .write import BatchWriter, ConcurrentChange, insert_results

log = logging.getLogger(__name__)

BATCH_ROWS = 2000  # the default of the setting IMPORT_BATCH_ROWS (see batch_rows)
# A transaction holds the batches of this many rows or seconds, whichever comes first, and the
# job's progress with them: the job row says how far the import has durably got.
COMMIT_ROWS, COMMIT_SECONDS = 10_000, 1.0
PREVIEW_SAMPLE = 20
NEW_CUSTOMERS_SAMPLE = 5  # new customers the preview shows as they will be stored
IMPORT_CACHE_KB = 65_536
IMPORT_CHECKPOINT_PAGES = 20_000


class TooManyBadRows(Exception):
    pass


def batch_rows() -> int:
    """Rows planned and written together (IMPORT_BATCH_ROWS; tests make batches small)."""
    return current_app.config.get("IMPORT_BATCH_ROWS", BATCH_ROWS)


def _count_if_new(job: ImportJob, counted: int | None = None) -> None:
    """The job's rows counted, for the progress, on a run's first start (`counted`: by the
    reading process already)."""
    if not job.rows_total:
        job.rows_total = counted if counted is not None else count_rows(job)
        job.heartbeat_at = utcnow()  # counting a big worksheet takes a while
        db.session.commit()


Progress = Callable[[ImportJob], None]


def run_import(job: ImportJob, *, dry_run: bool, resume: bool = False,
               progress: Progress | None = None,
               checkpoint: Callable[[], None] | None = None,
               holds: Callable[[], bool] | None = None) -> ImportJob:
    """Preview (dry_run) or apply the import; `resume` goes on after the last committed batch.
    `checkpoint` is called after every commit (a stopping worker hands the job back there);
    `holds` in every transaction before its commit (tracking.still_holds): when the sweep gave
    the job to another run meanwhile, nothing of the transaction stays and HandedBack is raised,
    so that no batch is written by two runs.

    Commits. On an error the job is marked failed with what was written so far (which undo can
    take back) and the error is raised again.
    """
    # (The stages, given no language of their own here, write in Flask-Babel's: translation.py.)
    with force_locale(job_language(job)):
        try:
            _run(job, dry_run, resume, progress, checkpoint, holds)
        except HandedBack:
            raise
        except Exception as error:
            db.session.rollback()
            if not dry_run:
                deferred.restore()  # (what this run set aside and committed)
            job.status, job.task = ImportStatus.FAILED, None
            job.finished_at = utcnow()
            job.error = getattr(error, "message", None) or str(error) or type(error).__name__
            db.session.commit()
            raise
    return job


def planner_for(job: ImportJob, options: ImportOptions) -> Planner:
    """The job's planner, given what the app holds: the session, the store's settings, the
    erased addresses and the secret their digests are keyed with."""
    return Planner(options, job.headings or None, job.mapping, session=db.session,
                   settings=get_settings(), erased=erased_digests(),
                   secret=current_app.config["SECRET_KEY"], approver=_may_approve(job))


def _may_approve(job: ImportJob) -> bool:
    """Whether the member who uploaded the file may approve customers now (a file given to the
    command line, by no member: the operator may). The import's side of
    customers.services.may_approve: what the file may not set is left, with a warning."""
    from ..customers.services import may_approve

    return may_approve(job.created_by if job.created_by_id is not None else None)


def _start(job: ImportJob, dry_run: bool, resume: bool) -> int:
    """Prepare the job row for a run; returns how many data rows are already done. A resumed
    apply that no run had committed a batch of starts afresh: its counters still held the
    preview's (a worker killed before its first batch, a task lost with the queue), which the
    report then counted twice."""
    fresh = dry_run or not resume or job.rows_done == 0
    job.task = ImportTask.PREVIEW if dry_run else ImportTask.APPLY
    if not dry_run:
        job.status = ImportStatus.PROCESSING
    job.heartbeat_at = utcnow()
    if fresh:
        db.session.execute(delete(ImportRowResult).where(ImportRowResult.import_id == job.id))
        job.rows_done = job.created = job.updated = job.unchanged = job.rejected = 0
        job.warned = 0
        job.started_at, job.finished_at, job.error = utcnow(), None, ""
    db.session.commit()
    return job.rows_done


def _run(job: ImportJob, dry_run: bool, resume: bool, progress: Progress | None,
         checkpoint: Callable[[], None] | None, holds: Callable[[], bool] | None) -> None:
    done = _start(job, dry_run, resume)
    options = ImportOptions.from_dict(job.options)
    if not dry_run and done == 0 and options.max_bad_rows is not None:
        _check_bad_rows(job, options)
    planner = planner_for(job, options)
    if resume and not dry_run:
        deferred.restore()  # (the run that died had set the indexes aside)
    aside = not dry_run and done == 0 and defers_indexes(job) and deferred.set_aside()
    with _bulk_settings(db.session.connection(), dry_run), \
            (nullcontext() if dry_run else merged_beside(db.engine)), \
            (nullcontext() if dry_run else checkpointed_beside(db.engine)):
        sample = _work_through(job, planner, dry_run, done, progress, _Commits(
            done, checkpoint, holds))
        if aside:  # (with the run's page cache: the sorts of the index builds fit in it)
            job.heartbeat_at = utcnow()
            deferred.restore()
    job.rows_total = job.rows_done
    job.task, job.finished_at = None, utcnow()
    if dry_run:
        job.status = ImportStatus.PREVIEWED
        job.preview = {"created": job.created, "updated": job.updated,
                       "unchanged": job.unchanged, "rejected": job.rejected,
                       "warned": job.warned, "sample": sample,
                       "languages": dict(planner.languages.most_common()),
                       "held_for_approval": planner.held,
                       "missing_groups": sorted(planner.missing_groups, key=str.casefold)}
    else:
        job.status = ImportStatus.READY
    _commit_if_held(holds)
    if progress:
        progress(job)


@contextmanager
def _bulk_settings(connection, dry_run: bool):
    """Settings for the length of a run, put back after it: fewer garbage collections (above)
    and, on SQLite, for this connection only: a 64 MB page cache (the customer indexes take
    random inserts, and the default 2 MB cache thrashes once the file outgrows it), and a
    checkpoint every 20,000 written pages instead of 1,000, so that a page several batches
    change is copied into the database once."""
    sqlite = not dry_run and connection.dialect.name == "sqlite"
    if sqlite:
        before = [connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("cache_size", "wal_autocheckpoint")]
        connection.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KB}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {IMPORT_CHECKPOINT_PAGES}")
    with fewer_collections:
        yield
    if sqlite:  # (after an error the session is rolled back, and its connection with it)
        connection = db.session.connection()
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before[0])}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {int(before[1])}")


def _work_through(job, planner, dry_run: bool, done: int, progress, commits) -> list[dict]:
    """Plan (and write) the batches after the first `done` rows; returns the preview sample."""
    writer = None if dry_run else BatchWriter(job.id, job.created_by_id, planner)
    sample: list[dict] = []
    batch: list[tuple] = []
    parallel = in_child(job)
    terms = TermsWanted(shared=parallel) if writer is not None else None
    rows_per_batch = batch_rows()
    # (IMPORT_READY_BATCHES off: every batch planned here, as tests compare)
    ready = ready_plan(planner, rows_per_batch) if writer is not None and current_app.config.get(
        "IMPORT_READY_BATCHES", True) else None
    # The preview's read of an XLSX sheet is kept for the apply; the apply's is the last.
    rows = parsed_rows(job, terms, skip=done, parallel=parallel, keep_spool=dry_run,
                       ready=ready)
    written_ready = 0
    with closing(rows):
        # (while the reading process starts up; an early one counted them while it waited)
        _count_if_new(job, terms.backlog.counted if terms is not None else None)
        for item in rows:
            if type(item) is ReadyBatch:  # (the rows before it first: ids follow the file)
                _flush(job, planner, writer, batch, sample, terms, commits)
                batch = []
                written_ready += _flush_ready(job, planner, writer, item, terms, commits)
                if progress:
                    progress(job)
                continue
            batch.append(item)
            if len(batch) >= rows_per_batch:
                _flush(job, planner, writer, batch, sample, terms, commits)
                batch = []
                if progress:
                    progress(job)
        _flush(job, planner, writer, batch, sample, terms, commits)
    if writer is not None:
        log.info("import %s: %d of %d rows written in batches made ready by the reading "
                 "side", job.id, written_ready, job.rows_done - done)
    return sample


def _flush(job, planner, writer, batch, sample, terms, commits) -> None:
    if not batch:
        return
    if writer is None:
        outcomes = planner.plan(batch)
        insert_results(db.session.connection(), job.id, outcomes)
        _keep_sample(outcomes, sample)
    else:
        outcomes = _write(job, planner, writer, batch, terms)
    _counted(job, commits, len(batch), Counter(outcome.action for outcome in outcomes),
             sum(1 for outcome in outcomes if outcome.warnings and outcome.action != "reject"))


def _flush_ready(job, planner, writer, ready: ReadyBatch, terms, commits) -> int:
    """Write a batch the reading side made ready (see ready.py); returns its rows, or 0 when
    it was planned as usual after all (a key of it was a customer's)."""
    if not write_ready(writer, ready):
        terms.want_ready(False)  # (until a batch meets no customer again: see _write)
        _flush(job, planner, writer, ready.parsed_rows(), [], terms, commits)
        return 0
    terms.decide(True)
    _counted(job, commits, len(ready), Counter(create=len(ready)), len(ready.warned))
    return len(ready)


def _counted(job, commits, rows: int, counts: Counter, warned: int) -> None:
    """A written (or planned) batch in the job's counts; the transaction committed when due."""
    job.warned += warned
    job.created += counts["create"]
    job.updated += counts["update"]
    job.unchanged += counts["unchanged"]
    job.rejected += counts["reject"]
    job.rows_done += rows
    job.heartbeat_at = utcnow()
    commits.maybe(job)


def _commit_if_held(holds: Callable[[], bool] | None) -> None:
    """Commit, unless the run no longer holds its job: then the transaction is dropped (the
    run that holds the job now writes those rows) and HandedBack raised."""
    if holds is not None and not holds():
        db.session.rollback()
        log.warning("an import run found its job taken over before a commit; it stops")
        raise HandedBack()
    db.session.commit()


class _Commits:
    """Commits the run's transaction every COMMIT_ROWS rows or COMMIT_SECONDS, and at once when
    the worker is stopping, so that the job is handed back after the batch that was written."""

    def __init__(self, rows_done: int, checkpoint: Callable[[], None] | None = None,
                 holds: Callable[[], bool] | None = None):
        self.rows, self.at = rows_done, time.monotonic()
        self.checkpoint, self.holds = checkpoint, holds

    def maybe(self, job: ImportJob) -> None:
        if (job.rows_done - self.rows >= COMMIT_ROWS
                or time.monotonic() - self.at >= COMMIT_SECONDS or stopping.is_set()):
            _commit_if_held(self.holds)
            self.rows, self.at = job.rows_done, time.monotonic()
            if self.checkpoint is not None:
                self.checkpoint()


def _write(job, planner, writer, batch, terms) -> list[Outcome]:
    """Write one planned batch, with the search index. A batch that updates customers is
    written in a savepoint: when someone saved one of them after the batch was planned, this
    batch alone is planned again. (Creating cannot meet that; and a savepoint makes SQLite's
    full-text index write out what it holds, so batches that only create go without.)"""
    for attempt in range(3):
        outcomes = planner.plan(batch)
        savepoint = None
        if any(o.action == "update" for o in outcomes):
            job.heartbeat_at = utcnow()
            db.session.flush()  # (a write first: on SQLite the transaction is then open)
            savepoint = db.session.begin_nested()
        try:
            writer.write(outcomes)
        except ConcurrentChange:
            savepoint.rollback()
            planner.reload_groups()
            if attempt == 2:
                raise
            continue
        if savepoint is not None:
            savepoint.commit()
        created = [(o.customer_id, o.terms or terms_text(o.values))
                   for o in outcomes if o.action == "create"]
        terms.decide(2 * len(created) >= len(batch))
        terms.want_ready(not planner.met_customers)
        index_new(db.session.connection(), created)
        # (Core writes bypass the search index's ORM hook.)
        reindex_customers([o.customer_id for o in outcomes if o.action == "update"])
        return outcomes
    raise AssertionError("unreachable")


def _keep_sample(outcomes: list[Outcome], sample: list[dict]) -> None:
    """Keep the first changes to existing customers, and the first few new customers with their
    values as they will be stored (the preview shows them as read, not as typed)."""
    changes = sum(1 for kept in sample if "changes" in kept)
    created = len(sample) - changes
    for outcome in outcomes:
        if changes >= PREVIEW_SAMPLE and created >= NEW_CUSTOMERS_SAMPLE:
            return
        if outcome.action == "update" and changes < PREVIEW_SAMPLE:
            changes += 1
            sample.append({"row": outcome.row, "customer_id": outcome.customer_id,
                           "changes": {name: [outcome.previous.get(name), json_value(value)]
                                       for name, value in outcome.values.items()},
                           "groups": outcome.group_names})
        elif outcome.action == "create" and created < NEW_CUSTOMERS_SAMPLE:
            created += 1
            sample.append({"row": outcome.row, "groups": outcome.group_names,
                           "stored": {name: json_value(value)
                                      for name, value in outcome.values.items()
                                      if value not in (None, "")}})


def _check_bad_rows(job: ImportJob, options: ImportOptions) -> None:
    """With a limit on bad rows, validate the whole file first and write nothing past it.
    Refused, the job keeps every bad row for its report, as a skipping import does."""
    _count_if_new(job)
    planner = planner_for(job, options)
    bad, batch, rows_per_batch = 0, [], batch_rows()
    for item in parsed_rows(job):
        batch.append(item)
        if len(batch) >= rows_per_batch:
            bad += _bad_rows(job, planner, batch)
            batch = []
            job.heartbeat_at = utcnow()
            db.session.commit()
    bad += _bad_rows(job, planner, batch) if batch else 0
    if bad > options.max_bad_rows:
        from ..formats import format_number, ngettext

        job.rejected = bad
        db.session.commit()
        raise TooManyBadRows(ngettext(
            "%(num)s row is bad, more than the %(limit)s allowed: nothing was imported.",
            "%(num)s rows are bad, more than the %(limit)s allowed: nothing was imported.",
            bad, num=format_number(bad), limit=format_number(options.max_bad_rows)))
    db.session.execute(delete(ImportRowResult).where(ImportRowResult.import_id == job.id))
    db.session.commit()


def _bad_rows(job: ImportJob, planner: Planner, batch: list) -> int:
    rejected = [o for o in planner.plan(batch) if o.action == "reject"]
    insert_results(db.session.connection(), job.id, rejected)
    return len(rejected)


def rate_and_time_left(job: ImportJob) -> tuple[float, float | None]:
    """Rows per second so far, and seconds left at that rate."""
    if not job.started_at or not job.rows_done:
        return 0.0, None
    elapsed = max((utcnow() - job.started_at).total_seconds(), 0.001)
    rate = job.rows_done / elapsed
    left = max(job.rows_total - job.rows_done, 0) / rate if rate else None
    return rate, left

