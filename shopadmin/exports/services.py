"""Exports: the job's state and the background work that writes its file.

What is exported (customers, orders, ...) comes from the kinds in `kinds`; the job's row is
in `models`; a cell holds
what the import reads back to the same value, so that an export of customers re-imports
unchanged.
"""

import contextlib
import logging
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import select, update

from .. import register_extension_points, tracking
from ..auth.models import StaffUser
from ..batching import batched
from ..database import utcnow
from ..extensions import db
from ..jobs import job
from ..settings.services import get_setting
from ..sheets.writers import (
    BLOCK,
    DELIMITERS,
    EXTENSIONS,
    CsvText,
    write_csv,
    write_worksheet,
)
from .kinds import EXPORT_KINDS, ExportKind
from .models import ExportJob, ExportStatus

# How often (in rows) a running export records its progress.
log = logging.getLogger(__name__)
PROGRESS_EVERY = 20_000
# From this many rows on, a CSV export of customers is written by two processes (two halves).
PARALLEL_ROWS = 200_000
# The name ending of a file while a run writes it.
PARTIAL_SUFFIX = ".writing"
# From this many rows on, an XLSX export's rows are read and made by a second process while
# this one writes the sheet (one zip stream cannot be written in two halves).
XLSX_PARALLEL_ROWS = 50_000

def export_folder() -> Path:
    folder = Path(current_app.config["EXPORT_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_export(actor: StaffUser | None, fmt: str, columns: list[str] | None, query: str,
                 headings_language: str | None, kind: str = "customers") -> ExportJob:
    export = ExportJob(actor_id=actor.id if actor else None, kind=kind, format=fmt,
                       columns=[c.name for c in EXPORT_KINDS[kind].columns_for(columns)],
                       query=query, headings_language=headings_language)
    tracking.queued(export)
    db.session.add(export)
    db.session.flush()
    return export


def _recording_progress(export_id: int, rows: Iterable[list[str]], share: int = 1,
                        checkpoint: Callable[[], None] | None = None) -> Iterator[list[str]]:
    """Pass the rows on, writing how many have gone every PROGRESS_EVERY rows (times `share`
    when this process writes one of that many equal parts), and calling `checkpoint` then."""
    for done, row in enumerate(rows, 1):
        yield row
        if done % PROGRESS_EVERY == 0:
            db.session.execute(update(ExportJob).where(ExportJob.id == export_id)
                               .values(rows_done=done * share))
            db.session.commit()
            if checkpoint is not None:
                checkpoint()


def _recording_block_progress(export_id: int, blocks: Iterable[list], share: int = 1,
                              checkpoint: Callable[[], None] | None = None) -> Iterator[list]:
    """`_recording_progress` for rows that come in blocks: the count is written after the
    block that reaches the next PROGRESS_EVERY rows."""
    done = recorded = 0
    for block in blocks:
        yield block
        done += len(block)
        if done - recorded >= PROGRESS_EVERY:
            recorded = done
            db.session.execute(update(ExportJob).where(ExportJob.id == export_id)
                               .values(rows_done=done * share))
            db.session.commit()
            if checkpoint is not None:
                checkpoint()


def _csv_blocks(kind: ExportKind, columns: list, query: str, language: str | None, fmt: str,
                **part) -> Iterable[list | CsvText]:
    """The export's rows in blocks, their values in `language` (see `_in_language`); part:
    after= and upto= ids (kinds with middle_id). Without values to translate, the lines as the
    database writes them, where the kind offers that (the fast path)."""
    if kind.csv_text is not None and not (language and kind.translator is not None):
        return kind.csv_text(columns, query, DELIMITERS[fmt], **part)
    if kind.blocks is not None:
        blocks = kind.blocks(columns, query, True, **part)
    else:
        blocks = batched(kind.rows(columns, query, True, **part), BLOCK)
    if not language or kind.translator is None:
        return blocks
    translate = kind.translator(columns, language)
    return ([translate(list(row)) for row in block] for block in blocks)


# What the second process of an export needs of the app's configuration.
CHILD_CONFIG = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "LANGUAGES",
                "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE", "BABEL_TRANSLATION_DIRECTORIES")


def _in_language(kind: ExportKind, columns: list, rows: Iterable[list[str]],
                 language: str | None) -> Iterable[list[str]]:
    """The rows with their values in `language` (exports with translated headings)."""
    if not language or kind.translator is None:
        return rows
    translate = kind.translator(columns, language)
    return (translate(list(row)) for row in rows)


@contextlib.contextmanager
def _child_app(config: dict, name: str) -> Iterator[None]:
    """The app of a spawned export child: the parent's database and languages, the extension
    points (the export kinds), and an app context to run in."""
    from flask import Flask
    from flask_babel import Babel

    from .. import models  # noqa: F401  (every table known)

    app = Flask(name)
    app.config.update(config)
    db.init_app(app)
    Babel(app)
    register_extension_points(app)
    with app.app_context():
        yield


def _second_half(config: dict, kind_name: str, column_names: list[str], query: str, fmt: str,
                 middle: int, part: Path, written, language: str | None = None) -> None:
    """The child of a two-process CSV export (spawned: the worker runs threads, and a
    threaded process must not fork): an app of its own on the same database, then the rows
    after `middle`, without headings."""
    with _child_app(config, "shopadmin-export"):
        kind = EXPORT_KINDS[kind_name]
        columns = kind.columns_for(column_names)
        blocks = _csv_blocks(kind, columns, query, language, fmt, after=middle)
        written.value = write_csv(part, fmt, None, blocks)


def _write_csv_in_two(kind: ExportKind, columns: list, export_id: int, query: str, fmt: str,
                      headings: list[str], target: Path, checkpoint=None,
                      language: str | None = None) -> int | None:
    """A big CSV export on two cores: a child process writes the second half of the rows to a
    part file while this process writes the first half with the headings; the part is then
    appended. None when the rows cannot be split."""
    middle = kind.middle_id(query)
    db.session.commit()  # no connection of this process's may go into the child
    if middle is None:
        return None
    part = target.with_name(target.name + ".part")
    context = multiprocessing.get_context("spawn")
    written = context.Value("q", -1)
    config = {key: current_app.config[key] for key in CHILD_CONFIG}
    child = context.Process(target=_second_half, daemon=True,
                            args=(config, kind.name, [c.name for c in columns], query, fmt,
                                  middle, part, written, language))
    child.start()
    try:
        blocks = _recording_block_progress(
            export_id, _csv_blocks(kind, columns, query, language, fmt, upto=middle), share=2,
            checkpoint=checkpoint)
        count = write_csv(target, fmt, headings, blocks)
        child.join()
        if child.exitcode != 0 or written.value < 0:
            raise RuntimeError(f"the second export process failed ({child.exitcode})")
        with target.open("ab") as whole, part.open("rb") as rest:
            shutil.copyfileobj(rest, whole, 1 << 20)
        return count + written.value
    finally:
        if child.is_alive():
            child.terminate()
            child.join()
        part.unlink(missing_ok=True)


def _rows_made_in_child(config: dict, kind_name: str, column_names: list[str], query: str,
                        guard: bool) -> Iterator[list]:
    """The spawned child of an XLSX export: an app of its own on the same database, then the
    rows in batches, each row's cells packed into one string (one object to pickle)."""
    from ..parallel import SEPARATOR

    with _child_app(config, "shopadmin-export-rows"):
        kind = EXPORT_KINDS[kind_name]
        batch: list = []
        for row in kind.rows(kind.columns_for(column_names), query, guard):
            cells = ["" if cell is None else cell for cell in row]
            packed = SEPARATOR.join(cells)
            batch.append(packed if packed.count(SEPARATOR) == len(cells) - 1 else cells)
            if len(batch) >= 1000:
                yield batch
                batch = []
        if batch:
            yield batch


def _rows_from_child(kind: ExportKind, columns: list, query: str,
                     guard: bool) -> Iterator[list[str]]:
    from ..parallel import cells_of, produced_in_child

    config = {key: current_app.config[key] for key in CHILD_CONFIG}
    db.session.commit()  # no connection of this process's may go into the child
    args = (config, kind.name, [c.name for c in columns], query, guard)
    for batch in produced_in_child(spawned=(_rows_made_in_child, args)):
        for packed in batch:
            yield cells_of(packed)


def write_export(export: ExportJob, path: Path | None = None,
                 checkpoint: Callable[[], None] | None = None) -> int:
    """Write the file of an export; returns the rows written. `checkpoint` is called with
    every progress commit (a stopping worker hands the export back there)."""
    kind = export.export_kind
    columns = kind.columns_for(export.columns)
    export.rows_total = kind.count(export.query)
    export_id, query, language = export.id, export.query, export.headings_language
    headings = kind.headings(columns, language)
    db.session.commit()
    stamp = utcnow().strftime("%Y-%m-%d")
    name = f"{kind.name}-{stamp}-{export_id}.{EXTENSIONS[export.format]}"
    target = Path(path or export_folder() / name)
    # Written under a name of this run's own and renamed when whole: the file under the
    # export's name is always complete, even when a run whose heartbeat was late still writes
    # while another has taken the export over.
    writing = target.with_name(f"{target.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        count = _write_file(kind, columns, export_id, query, export.format, export.rows_total,
                            headings, writing, checkpoint, language)
        os.replace(writing, target)
    finally:
        writing.unlink(missing_ok=True)
    export = db.session.get(ExportJob, export_id)
    export.rows_done = count
    export.file_name = name if path is None else str(path)
    export.status = ExportStatus.READY
    export.expires_at = utcnow() + timedelta(days=get_setting("export_keep_days"))
    db.session.commit()
    return count


def _write_file(kind: ExportKind, columns: list, export_id: int, query: str, fmt: str,
                rows_total: int, headings: list[str], target: Path,
                checkpoint: Callable[[], None] | None, language: str | None = None) -> int:
    guard = fmt != "json"  # JSON holds texts as they are (see writers)
    count = None
    # Rows that come as final text go to the CSV writer in blocks, as read.
    csv_blocks = fmt in ("csv", "csv_semicolon") and kind.neutralised
    if csv_blocks and kind.middle_id is not None and rows_total >= PARALLEL_ROWS:
        count = _write_csv_in_two(kind, columns, export_id, query, fmt, headings, target,
                                  checkpoint, language)
    if count is None and csv_blocks:
        blocks = _recording_block_progress(
            export_id, _csv_blocks(kind, columns, query, language, fmt), checkpoint=checkpoint)
        count = write_csv(target, fmt, headings, blocks)
    if count is None:
        if fmt == "xlsx" and rows_total >= XLSX_PARALLEL_ROWS:
            made = _rows_from_child(kind, columns, query, guard)
        else:
            made = kind.rows(columns, query, guard)
        rows = _recording_progress(export_id, _in_language(kind, columns, made, language),
                                   checkpoint=checkpoint)
        count = write_worksheet(target, fmt, headings, rows,
                                sheet=kind.name.capitalize(),
                                neutralised=kind.neutralised and guard)
    return count


@job()
def run_export(export_id: int) -> None:
    """Write the export (tracked: a worker's death or stop starts it again from the top)."""
    taken = tracking.take_up(ExportJob, export_id,
                             lambda export: export.status != ExportStatus.PROCESSING)
    if taken is None:
        return
    export, token = taken
    try:
        with tracking.beating(ExportJob, export_id, token):
            write_export(export, checkpoint=lambda: tracking.checkpoint(KIND, export_id, token))
    except tracking.HandedBack:
        return
    except Exception as error:  # noqa: BLE001  (recorded on the job for staff to see)
        log.exception("export %s failed", export_id)
        db.session.rollback()
        _fail(export_id, f"{type(error).__name__}: {error}"[:500])
    tracking.release(ExportJob, export_id, token)
    db.session.commit()


def _fail(export_id: int, error: str) -> None:
    db.session.execute(update(ExportJob).where(ExportJob.id == export_id).values(
        status=ExportStatus.FAILED, error=error, runner_token=None))
    db.session.commit()


KIND = "export"
tracking.register_kind(KIND, tracking.Kind(
    ExportJob, active=lambda: ExportJob.status == ExportStatus.PROCESSING,
    resume=lambda export_id: run_export(export_id), fail=_fail))


@job(periodic=crontab(hour="4", minute="10"))
def remove_expired_exports() -> None:
    expired = db.session.scalars(select(ExportJob).where(ExportJob.expires_at < utcnow()))
    for export in expired:
        if export.file_name:
            (export_folder() / export.file_name).unlink(missing_ok=True)
        db.session.delete(export)
    db.session.commit()
    # What runs killed mid-file left behind (a day is longer than any export takes).
    left_before = time.time() - 24 * 3600
    for partial in export_folder().glob(f"*{PARTIAL_SUFFIX}"):
        if partial.stat().st_mtime < left_before:
            partial.unlink(missing_ok=True)

