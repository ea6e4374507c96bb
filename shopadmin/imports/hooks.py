"""Where the import appears in the register: the warnings it left on a customer's page, and
what it keeps about a customer, forgotten when the customer is."""

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..customers.forget import Forgotten
from ..customers.models import Customer
from ..extensions import db
from ..registry import registry
from ..text import email_key
from .models import ImportChange, ImportJob, ImportRowResult, ImportStatus
from .services import delete_upload

FINISHED = {ImportStatus.READY, ImportStatus.FAILED, ImportStatus.UNDONE,
            ImportStatus.DISCARDED}


def _rows_naming(emails: set[str]) -> tuple[list[int], set[int]]:
    """Rows not tied to a customer (rejected, or planned in a preview) with one of the
    addresses in a cell: their ids and their imports."""
    row_ids, import_ids = [], set()
    query = select(ImportRowResult.id, ImportRowResult.import_id, ImportRowResult.cells).where(
        ImportRowResult.customer_id.is_(None))
    for row in db.session.execute(query.execution_options(yield_per=2000)):
        if any(isinstance(cell, str) and email_key(cell) in emails for cell in row.cells):
            row_ids.append(row.id)
            import_ids.add(row.import_id)
    return row_ids, import_ids


def forget_import_records(gone: Forgotten) -> None:
    """An import's undo record holds the values it replaced, its warnings and rejected rows the
    cells of the customer's row, its preview a sample of rows and its upload the whole file:
    none of it may outlive the customer. The uploaded files of the imports that held the
    customer are deleted (an import not yet applied cannot go on without it)."""
    options = {"synchronize_session": False}
    row_ids, import_ids = _rows_naming(gone.emails)
    import_ids.update(db.session.scalars(select(Customer.import_id).where(
        Customer.id.in_(gone.ids), Customer.import_id.is_not(None))))
    import_ids.update(db.session.scalars(select(ImportChange.import_id).where(
        ImportChange.customer_id.in_(gone.ids))))
    import_ids.update(db.session.scalars(select(ImportRowResult.import_id).where(
        ImportRowResult.customer_id.in_(gone.ids))))
    db.session.execute(delete(ImportChange).where(ImportChange.customer_id.in_(gone.ids)),
                       execution_options=options)
    db.session.execute(delete(ImportRowResult).where(
        ImportRowResult.customer_id.in_(gone.ids) | ImportRowResult.id.in_(row_ids)),
        execution_options=options)
    for job in db.session.scalars(select(ImportJob).where(ImportJob.id.in_(import_ids))):
        delete_upload(job)
        if job.preview:
            job.preview = {**job.preview, "sample": []}
        if job.status not in FINISHED:
            job.status = ImportStatus.FAILED
            job.error = _("The file was deleted because it held a customer who was erased; "
                          "upload it again without that customer.")


def _import_rows(customer) -> tuple[str, list]:
    """A privacy export's import records: the rows of worksheets that carried the customer,
    as read, with what was wrong with them."""
    rows = db.session.scalars(select(ImportRowResult).where(
        ImportRowResult.customer_id == customer.id).order_by(ImportRowResult.id))
    return "import_rows", [
        {"import": row.import_id, "row": row.row, "cells": row.cells,
         "warnings": [w.get("message") for w in row.warnings]} for row in rows
    ]


def init_app(app) -> None:
    extensions = registry(app)
    extensions.add_eraser(forget_import_records)
    extensions.add_contributor(_import_rows)
    extensions.add_customer_panel("imports/_customer_warnings.html")
