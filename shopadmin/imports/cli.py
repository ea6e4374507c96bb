"""flask customers import: the customer register's import from the command line (its export
command is in exports/cli.py, in the same group)."""

import atexit
import gc
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..auth.models import StaffUser
from ..domain import DomainError
from ..extensions import db
from ..text import email_key

customers_cli = AppGroup("customers", help="The customer register: import and export.")


@customers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--create-only", "mode", flag_value="create_only", help="Never update.")
@click.option("--update-only", "mode", flag_value="update_only", help="Never create.")
@click.option("--match", type=click.Choice(["email", "customer-number"]), default="email",
              show_default=True, help="How a row finds its existing customer.")
@click.option("--date-order", type=click.Choice(["dmy", "mdy"]),
              help="How to read ambiguous dates like 03/04/2024 (default: as errors).")
@click.option("--empty-clears", is_flag=True, help="An empty cell clears the current value.")
@click.option("--max-bad-rows", type=click.IntRange(min=0),
              help="Import nothing when more rows than this are bad (default: skip them).")
@click.option("--create-groups", is_flag=True, help="Create customer groups that do not exist.")
@click.option("--language", help="The language of new customers whose row names none (an ISO "
              "code; default: their country's where the store writes it, else the store's).")
@click.option("--user", "user_email", help="The staff member the import is recorded for.")
@click.option("--rejected", "rejected_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rejected rows (with an error column) to this file.")
def import_command(file: Path, dry_run: bool, mode: str | None, match: str,
                   date_order: str | None, empty_clears: bool, max_bad_rows: int | None,
                   create_groups: bool, language: str | None, user_email: str | None,
                   rejected_to: Path | None):
    """Import customers from a worksheet (CSV, XLSX or ODS), as the import pages do."""
    from .. import pageless_command, tracking
    from ..customers.validation import check_language
    from . import services
    from .models import ImportJob
    from .pipeline import run_import
    from .plan import ImportOptions

    if pageless_command(sys.argv):  # (this process is the command's own, not a test's)
        atexit.register(_end_quickly, db.engine)
    actor = None
    if user_email:
        actor = db.session.scalar(db.select(StaffUser).filter_by(email=email_key(user_email)))
        if actor is None:
            raise click.ClickException(f"No staff member {user_email}.")
    options = ImportOptions(mode=mode or "create_update", match=match.replace("-", "_"),
                            empty_clears=empty_clears, max_bad_rows=max_bad_rows,
                            date_order=date_order, create_groups=create_groups)
    try:
        if language:
            options.language = check_language(language)
        with file.open("rb") as stream:
            job = services.start_import(stream, file.name, actor=actor)
        services.save_mapping(job, job.mapping)
        services.save_options(job, options)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    _print_mapping(job)
    with click.progressbar(length=1, label="Importing" if not dry_run else "Checking",
                           show_pos=True) as bar:
        def progress(current):
            bar.length = max(current.rows_total, 1)
            bar.update(current.rows_done - bar.pos)

        # Held by this process like a worker's run, so that no worker's sweep takes it up too.
        token = tracking.claim(ImportJob, job.id)
        try:
            with tracking.beating(ImportJob, job.id, token):
                run_import(job, dry_run=dry_run, progress=progress)
        except Exception as error:  # noqa: BLE001  (reported as the job row records it)
            raise click.ClickException(f"Import {job.id} failed: {job.error or error}") from error
        finally:
            tracking.release(ImportJob, job.id, token)
            db.session.commit()
    _print_report(job, dry_run, rejected_to)


def _end_quickly(engine) -> None:
    """As the command's process ends: its database connections closed now (on SQLite the
    last one copies what is left of the log into the database file and removes the log, as
    before), then every object left to the process's end as it is. Python's last collection
    at exit would walk the whole app and free its objects one by one, which the system does
    at once: 0.32 -> 0.15 s from the command's last line to its exit, at 100,000 rows
    (bench/imports_cli.py)."""
    engine.dispose()
    gc.freeze()


def _print_mapping(job) -> None:
    for index, target in enumerate(job.mapping):
        heading = job.headings[index] if job.headings else f"column {index + 1}"
        click.echo(f"  {heading} -> {target or '(ignored)'}")


def _print_report(job, dry_run: bool, rejected_to: Path | None) -> None:
    from .report import error_text, write_rejected
    from .services import rejected_rows

    verb = "would be" if dry_run else "were"
    click.echo(f"Import {job.id}: {job.rows_done} rows; customers {verb} created: {job.created}, "
               f"updated: {job.updated}, unchanged: {job.unchanged}; rejected rows: "
               f"{job.rejected}; imported with warnings: {job.warned}")
    if dry_run and job.preview.get("languages"):
        languages = ", ".join(f"{code}: {count}"
                              for code, count in job.preview["languages"].items())
        click.echo(f"New customers by language: {languages}")
    for rejected, total in ((True, job.rejected), (False, job.warned)):
        for result in rejected_rows(job, limit=20, rejected=rejected):
            word = "rejected" if rejected else "warning"
            click.echo(f"  row {result.row} ({word}): "
                       f"{error_text(result.errors + result.warnings)}")
        if total > 20:
            click.echo(f"  ... and {total - 20} more")
    if rejected_to and job.rejected:
        path, _, _ = write_rejected(db.session, job, rejected_to.parent)
        path.rename(rejected_to)
        click.echo(f"Rejected rows written to {rejected_to}")
