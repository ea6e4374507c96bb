"""The import's rules for the views, the CLI and the jobs: plain functions that flush, never commit.

upload -> (mapping) -> (options) -> preview -> apply -> report -> undo; each step checks that
the job is in a state where it makes sense.
"""

import hashlib
import uuid
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import StaffUser
from ..domain import DomainError
from ..extensions import db
from .job_file import open_job_worksheet, upload_path
from .models import ImportJob, ImportMapping, ImportRowResult, ImportStatus, ImportTask
from .plan import MATCHES, MODES, ImportOptions

KINDS = ("customers",)
CHUNK = 1 << 20


def save_upload(stream: BinaryIO, limit: int | None = None) -> Path:
    """Copy an uploaded file under the upload folder with a name of ours; returns its path."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    size = 0
    with path.open("wb") as target:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                target.close()
                path.unlink()
                raise DomainError(_("The file is larger than the allowed upload size."), "file")
            target.write(chunk)
    return path


def heading_signature(headings: list[str]) -> str:
    from .headings import heading_key

    return hashlib.sha256("\x1f".join(heading_key(h) for h in headings).encode()).hexdigest()


def remembered_mapping(headings: list[str]) -> list[str | None]:
    """The mapping for a file with these headings: the one confirmed for the same headings
    (also for a worksheet of our rejected or warned rows, which has the same headings plus our
    column at the end); else the suggested one, with the targets staff chose for headings
    seen in earlier files. No column is left out for being new."""
    from .headings import heading_key, suggest_mapping
    from .report import problem_headings

    languages = tuple(current_app.config["LANGUAGES"])
    known, extra = headings, []
    if headings and headings[-1].strip() in problem_headings(languages):
        known, extra = headings[:-1], [None]
    if known:
        stored = db.session.scalar(select(ImportMapping).filter_by(
            signature=heading_signature(known)))
        if stored is not None and len(stored.mapping) == len(known):
            return [*stored.mapping, *extra]
    mapping = suggest_mapping(known, languages)
    chosen = remembered_choices()
    keys = [heading_key(h) for h in known]
    for index, key in enumerate(keys):
        if key in chosen and chosen[key] not in mapping:
            mapping[index] = chosen[key]
    return [*mapping, *extra]


def remembered_choices(limit: int = 50) -> dict[str, str | None]:
    """The target last chosen for each heading, from the newest remembered mappings."""
    from .headings import heading_key

    chosen: dict[str, str | None] = {}
    stored = db.session.scalars(select(ImportMapping).where(ImportMapping.headings.is_not(None))
                                .order_by(ImportMapping.updated_at.desc()).limit(limit))
    for remembered in stored:
        for heading, target in zip(remembered.headings or (), remembered.mapping, strict=False):
            chosen.setdefault(heading_key(heading), target)
    return {key: target for key, target in chosen.items() if target}


def secret_columns(job: ImportJob) -> set[int]:
    """The columns with the old shop's passwords or tokens (never imported)."""
    from .headings import is_sensitive

    return {index for index, heading in enumerate(job.headings or []) if is_sensitive(heading)}


def new_columns(job: ImportJob) -> set[int]:
    """The columns whose heading no remembered mapping has (shown as new), when some do."""
    from .headings import heading_key

    if not job.headings:
        return set()
    seen: set[str] = set()
    for headings in db.session.scalars(select(ImportMapping.headings)
                                       .where(ImportMapping.headings.is_not(None)).limit(200)):
        seen.update(heading_key(h) for h in headings or ())
    keys = [heading_key(h) for h in job.headings]
    if not seen.intersection(keys):
        return set()
    return {index for index, key in enumerate(keys) if key and key not in seen}


def start_import(stream: BinaryIO, filename: str, *, kind: str = "customers",
                 actor: StaffUser | None = None, size_limit: int | None = None) -> ImportJob:
    """Keep the upload, read what it is, and suggest a mapping. Raises DomainError("file").

    size_limit: bytes; an upload through the pages is already held to MAX_CONTENT_LENGTH
    (413), the command line takes files of any size.
    """
    from ..sheets.readers import WorksheetError, open_worksheet

    if kind not in KINDS:
        raise DomainError(_("Choose what to import."), "kind")
    path = save_upload(stream, size_limit)
    try:
        worksheet = open_worksheet(path)
        sample = worksheet.sample(5)
    except WorksheetError as error:
        path.unlink(missing_ok=True)
        raise DomainError(error.message, "file") from None
    headings = list(worksheet.headings or [])
    if not headings and not sample:
        path.unlink(missing_ok=True)
        raise DomainError(_("The file holds no rows to import."), "file")
    if headings and not sample:
        path.unlink(missing_ok=True)
        raise DomainError(_("The file has headings but no rows below them: there is no "
                            "customer to import."), "file")
    width = len(headings) or max(len(cells) for cells in sample)
    mapping = remembered_mapping(headings) if headings else [None] * width
    job = ImportJob(
        kind=kind, file_path=str(path.relative_to(current_app.config["UPLOAD_FOLDER"])),
        original_name=Path(filename or "").name[:255] or "upload",
        file_format=worksheet.format, encoding=worksheet.encoding,
        delimiter=worksheet.delimiter, has_headings=bool(headings), headings=headings,
        mapping=mapping, options=ImportOptions().to_dict(),
        created_by_id=actor.id if actor is not None else None, status=ImportStatus.UPLOADED,
    )
    db.session.add(job)
    db.session.flush()
    return job


def column_samples(job: ImportJob, count: int = 3) -> list[list[str]]:
    """For each column, the first few non-empty values of the file."""
    rows = open_job_worksheet(job).sample(20)
    width = len(job.mapping)
    samples: list[list[str]] = [[] for _ in range(width)]
    for cells in rows:
        for index, cell in enumerate(cells[:width]):
            if cell and len(samples[index]) < count:
                samples[index].append(cell)
    return samples


def _editable(job: ImportJob) -> None:
    if job.status == ImportStatus.DISCARDED:
        raise DomainError(_("This upload was discarded; upload the file again to import it."))
    if job.running or job.status in (ImportStatus.PROCESSING, ImportStatus.READY,
                                     ImportStatus.UNDONE):
        raise DomainError(_("This import has been applied and can no longer be changed."))


def save_mapping(job: ImportJob, mapping: list[str | None]) -> None:
    """Set the columns' targets, and remember them for files with the same headings."""
    from .headings import TARGETS

    _editable(job)
    if len(mapping) != len(job.mapping):
        raise DomainError(_("The mapping does not fit the file's columns."))
    chosen = [target for target in mapping if target]
    for target in chosen:
        if target not in TARGETS:
            raise DomainError(_("Unknown target “%(name)s”.", name=target))
    doubles = sorted({str(TARGETS[t]) for t in chosen if chosen.count(t) > 1})
    if doubles:
        raise DomainError(_("Each field can take one column only: %(fields)s.",
                            fields=", ".join(doubles)))
    if not chosen:
        raise DomainError(_("Map at least one column to a field."))
    for index in secret_columns(job):
        if mapping[index]:
            raise DomainError(_("The column “%(heading)s” holds passwords or tokens of the old "
                                "shop and is never imported.", heading=job.headings[index]))
    job.mapping = list(mapping)
    if job.headings:
        signature = heading_signature(job.headings)
        stored = db.session.scalar(select(ImportMapping).filter_by(signature=signature))
        if stored is None:
            db.session.add(ImportMapping(signature=signature, mapping=list(mapping),
                                         headings=list(job.headings)))
        else:
            stored.mapping, stored.headings = list(mapping), list(job.headings)
    job.status = ImportStatus.MAPPED
    db.session.flush()


def save_options(job: ImportJob, options: ImportOptions) -> None:
    _editable(job)
    if options.mode not in MODES or options.match not in MATCHES:
        raise DomainError(_("Choose one of the offered options."))
    if options.date_order not in (None, "dmy", "mdy"):
        raise DomainError(_("Choose one of the offered options."), "date_order")
    if options.max_bad_rows is not None and options.max_bad_rows < 0:
        raise DomainError(_("Enter a number of 0 or more."), "max_bad_rows")
    target = "email" if options.match == "email" else "customer_number"
    if target not in job.mapping:
        raise DomainError(_("To match on this field, map a column to it."), "match")
    job.options = options.to_dict()
    if job.status == ImportStatus.PREVIEWED:
        job.status = ImportStatus.MAPPED
    db.session.flush()


def _queue(job: ImportJob, task: ImportTask) -> None:
    from ..tracking import queued

    job.task, job.error = task, ""
    queued(job)
    db.session.flush()


def request_preview(job: ImportJob) -> None:
    """Mark the dry run as wanted; the caller commits and then enqueues the task."""
    _editable(job)
    if job.status == ImportStatus.UPLOADED:
        raise DomainError(_("Check the mapping first."))
    _queue(job, ImportTask.PREVIEW)


def request_apply(job: ImportJob) -> None:
    _editable(job)
    if job.status != ImportStatus.PREVIEWED:
        raise DomainError(_("Preview the import before you apply it."))
    job.status = ImportStatus.PROCESSING
    job.rows_done = 0
    _queue(job, ImportTask.APPLY)


def request_undo(job: ImportJob) -> None:
    if job.running or job.status not in (ImportStatus.READY, ImportStatus.FAILED):
        raise DomainError(_("Only a finished import can be undone."))
    _queue(job, ImportTask.UNDO)


def rejected_rows(job: ImportJob, limit: int | None = None, *,
                  rejected: bool = True) -> list[ImportRowResult]:
    """The rejected rows (or, with rejected=False, the rows imported with warnings)."""
    query = (select(ImportRowResult).where(ImportRowResult.import_id == job.id,
                                           ImportRowResult.rejected.is_(rejected))
             .order_by(ImportRowResult.row))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def customer_warnings(customer_id: int, limit: int = 20) -> list[ImportRowResult]:
    """The warnings imports left on a customer, newest first (the customer page shows them)."""
    return list(db.session.scalars(
        select(ImportRowResult).where(ImportRowResult.customer_id == customer_id,
                                      ImportRowResult.rejected.is_(False))
        .order_by(ImportRowResult.id.desc()).limit(limit)))


def created_customers(job: ImportJob):
    """A select of the ids of the live customers this import created."""
    from ..customers.models import Customer

    return select(Customer.id).where(Customer.import_id == job.id,
                                     Customer.deleted_at.is_(None))


def password_links_sent(job: ImportJob) -> dict[str, int]:
    """Of the customers this import created: how many were sent a password link, and how
    many of those have set a password since (undo warns about both)."""
    from sqlalchemy import func

    from ..customers.models import Customer
    from ..notifications.models import MailLog

    mailed = select(MailLog.customer_id).where(MailLog.customer_id.in_(created_customers(job)))
    sent, with_password = db.session.execute(
        select(func.count(Customer.id), func.count(Customer.password_set_at))
        .where(Customer.id.in_(mailed))).one()
    return {"sent": sent, "with_password": with_password}


def delete_upload(job: ImportJob) -> None:
    from ..sheets.spool import remove_spool

    if job.file_path:  # empty once the retention sweep deleted the file
        upload_path(job).unlink(missing_ok=True)
        remove_spool(upload_path(job))
