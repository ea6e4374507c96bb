"""flask customers export, flask orders export: the exports from the command line, written
at once by this process (no worker needed) through the same job as the web's."""

from pathlib import Path

import click

from .. import tracking
from ..extensions import db
from ..sheets.writers import FORMATS
from .models import ExportJob
from .services import start_export, write_export


def export_options(query_help: str):
    """The options of an export command (customers, orders): format, file, query, headings."""
    def decorate(command):
        for option in reversed((
            click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv",
                         show_default=True),
            click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                         required=True),
            click.option("--query", default="", help=query_help),
            click.option("--headings", "language", type=click.Choice(["de", "fr", "en", "pl"]),
                         help="Headings in this language instead of the canonical English ones."),
        )):
            command = option(command)
        return command
    return decorate


def export_to_file(kind: str, fmt: str, output: Path, query: str, language: str | None) -> int:
    """Write the export of `kind` to `output` now, tracked as a job like the web's."""
    export = start_export(None, fmt, None, query, language, kind=kind)
    db.session.commit()
    # Held by this process like a worker's run, so that no worker's sweep takes it up too.
    token = tracking.claim(ExportJob, export.id)
    assert token is not None, "a job created a moment ago has no run yet"
    with tracking.beating(ExportJob, export.id, token):
        count = write_export(db.session.get_one(ExportJob, export.id), output)
    tracking.release(ExportJob, export.id, token)
    db.session.commit()
    return count


@click.command("export")
@export_options("The customer list's search and filters, as in its address "
                "(q=muller&country=DE); all customers when left out.")
def customers_export_command(fmt: str, output: Path, query: str, language: str | None):
    """Export customers to a worksheet that re-imports unchanged."""
    count = export_to_file("customers", fmt, output, query, language)
    click.echo(f"{count:,} customers written to {output}.")
