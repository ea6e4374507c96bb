"""The rejected rows as a worksheet: the file's own columns plus an error column, to fix and
upload again as it is. Messages are in translation.py's language (the one spoken, else
Flask-Babel's); the rows are read in the session the caller gives, with no app."""

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from ..config import LANGUAGES
from ..translation import gettext as _
from ..translation import translator
from .models import ImportJob, ImportRowResult

DOWNLOAD_STEM_LENGTH = 100
MIMETYPES = {
    "csv": "text/csv",
    "csv_semicolon": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def error_text(errors: list[dict]) -> str:
    parts = []
    for error in errors:
        if error.get("column"):
            parts.append(_("%(column)s: %(message)s", column=error["column"],
                           message=error["message"]))
        else:
            parts.append(error["message"])
    return "; ".join(parts)


def rejected_format(job: ImportJob) -> str:
    """The format staff uploaded, so their spreadsheet opens the file the same way."""
    if job.file_format == "csv":
        return "csv_semicolon" if job.delimiter == ";" else "csv"
    return "xlsx"


def problem_headings(languages: tuple[str, ...] = LANGUAGES) -> set[str]:
    """The headings of the column our worksheets of rejected and warned rows add, in each of
    `languages` (a file of them has its own columns plus this one)."""
    names: set[str] = set()
    for language in languages:
        messages = translator(language)
        names.update((messages.gettext("Import error"), messages.gettext("Import warnings")))
    return names


def write_rejected(session: Session | scoped_session[Any], job: ImportJob, folder: Path, *,
                   rejected: bool = True) -> tuple[Path, str, str]:
    """Write the rejected rows (or the rows imported with warnings, with rejected=False) with
    what is wrong in a column of its own; returns the file, its download name and its type."""
    from ..sheets.writers import write_worksheet

    fmt = rejected_format(job)
    width = len(job.mapping)
    headings = list(job.headings) if job.headings else [
        _("Column %(number)d", number=i + 1) for i in range(width)]
    headings.append(_("Import error") if rejected else _("Import warnings"))
    query = (select(ImportRowResult.cells, ImportRowResult.errors, ImportRowResult.warnings)
             .where(ImportRowResult.import_id == job.id,
                    ImportRowResult.rejected.is_(rejected))
             .order_by(ImportRowResult.row))
    rows = ([*(cells + [""] * (width - len(cells)))[:width], error_text(errors + warnings)]
            for cells, errors, warnings in session.execute(query).yield_per(1000))
    suffix = ".xlsx" if fmt == "xlsx" else ".csv"
    # The upload's name may be as long as its column (255) and any script: the download name
    # is cut to a length every system takes, and the file on disk has a name of our own.
    stem = Path(job.original_name).stem[:DOWNLOAD_STEM_LENGTH].strip() or "import"
    name = (_("%(name)s-rejected", name=stem) if rejected
            else _("%(name)s-warnings", name=stem)) + suffix
    path = folder / f"rejected{suffix}"
    write_worksheet(path, fmt, headings, rows)
    return path, name, MIMETYPES[fmt]
