"""The job's file as an import reads it: where it is, in which language its messages are
written, how it is read (in this process, or on a big file in a second one: parallel.py) and
how many rows it has. pipeline.py writes what these give.
"""

import dataclasses
import functools
from collections.abc import Generator
from pathlib import Path
from typing import Any

import email_validator
from flask import current_app

from .models import ImportJob
from .plan import ImportOptions
from .reading import ReadingPlan, TermsWanted, read_in_child, read_rows
from .ready import ReadyPlan

# From this many rows on, a second process reads and parses while this one writes.
PARALLEL_ROWS = 50_000
# From this many rows on, an apply into an empty register builds its indexes at the end.
DEFER_INDEX_ROWS = 50_000


def upload_path(job: ImportJob) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / job.file_path


def job_language(job: ImportJob) -> str:
    from ..i18n import store_default_language

    language = job.created_by.language if job.created_by is not None else None
    if language and language in current_app.config["LANGUAGES"]:
        return language
    return store_default_language()


def open_job_worksheet(job: ImportJob, keep_spool: bool = True):
    from ..sheets.readers import open_worksheet

    return open_worksheet(upload_path(job), has_headings=job.has_headings,
                          encoding=job.encoding, delimiter=job.delimiter, spool=True,
                          keep_spool=keep_spool)


def reading_plan(job: ImportJob, skip: int = 0, keep_spool: bool = True) -> ReadingPlan:
    options = ImportOptions.from_dict(job.options)
    return ReadingPlan(
        str(upload_path(job)), job.has_headings, job.encoding, job.delimiter, list(job.mapping),
        options.date_order, options.empty_clears, skip, job_language(job),
        bool(email_validator.TEST_ENVIRONMENT), options.split_street, keep_spool)


def parsed_rows(job: ImportJob, terms: TermsWanted | None = None, skip: int = 0, *,
                parallel: bool | None = None, keep_spool: bool = True,
                ready: ReadyPlan | None = None) -> Generator[Any, None, None]:
    """(ParsedRow, cells) for every data row of the file after the first `skip` (a resumed
    import's committed ones), in order, each with its unique keys and the earlier rows that
    had them (duplicates within the file). Of the skipped rows only the keys are read.

    A big file is read and parsed by a second process (see parallel.py; `parallel` says
    whether, by default in_child), which starts at once. With `terms`, rows come with the
    search terms a new customer would have, while terms says they are wanted. keep_spool=False:
    no other read of the file follows (see readers.open_worksheet). With `ready`, a batch of
    rows that only create customers comes as one ReadyBatch (see ready.py).
    """
    plan = dataclasses.replace(reading_plan(job, skip, keep_spool), ready=ready)
    if in_child(job) if parallel is None else parallel:
        from ..parallel import parsed_in_child

        flag = terms.flag if terms is not None else None
        backlog = terms.backlog if terms is not None else None
        return parsed_in_child(read_in_child, (plan, flag), backlog)
    return read_rows(plan, terms)


def in_child(job: ImportJob) -> bool:
    """Whether a second process reads and parses the file: by its rows, or before they are
    counted, by an estimate (readers.Worksheet.estimate_rows)."""
    return _rows_or_estimate(job) >= current_app.config.get(
        "IMPORT_PARALLEL_ROWS", PARALLEL_ROWS)


def defers_indexes(job: ImportJob) -> bool:
    """Whether an apply sets the customers' secondary indexes aside (see deferred.py): a file
    of IMPORT_DEFER_INDEX_ROWS rows or more (by its count or estimate, as in_child)."""
    return _rows_or_estimate(job) >= current_app.config.get(
        "IMPORT_DEFER_INDEX_ROWS", DEFER_INDEX_ROWS)


def _rows_or_estimate(job: ImportJob) -> int:
    if job.rows_total:
        return job.rows_total
    return _estimated_rows(upload_path(job), job.has_headings, job.encoding, job.delimiter)


@functools.lru_cache(maxsize=16)
def _estimated_rows(path: Path, has_headings: bool | None, encoding: str | None,
                    delimiter: str | None) -> int:
    """A file's estimated rows, worked out once (an upload does not change; opening a
    worksheet reads its head and headings: 0.06-0.07 s for the bench's CSV and XLSX files,
    before the reading process is started)."""
    from ..sheets.readers import open_worksheet

    return open_worksheet(path, has_headings=has_headings, encoding=encoding,
                          delimiter=delimiter, spool=True).estimate_rows()


def count_rows(job: ImportJob) -> int:
    return open_job_worksheet(job).count_rows()
