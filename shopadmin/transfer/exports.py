"""Exports of the customer register: the job's state, the rows as text, and the background work.

A cell holds what the import reads back to the same value (yes/no, ISO dates, ISO country and
language codes), so that an export re-imports unchanged.
"""

import enum
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from flask import current_app
from flask_babel import force_locale
from huey import crontab
from sqlalchemy import JSON, Enum, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.datastructures import MultiDict

from ..auth.models import StaffUser
from ..customers.fields import FIELDS, SECTION_LABELS, CustomerField, Kind, Section
from ..customers.listing import customer_query
from ..customers.models import Customer, CustomerGroup, customer_group_members
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..jobs import job
from .writers import EXTENSIONS, write_worksheet

BATCH = 2000
KEEP_DAYS = 7
EXPORTABLE = tuple(f for f in FIELDS if f.editable or f.name in ("id", "created_at",
                                                                  "updated_at"))


class ExportStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ExportJob(db.Model):
    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]), default=ExportStatus.PROCESSING)
    format: Mapped[str] = mapped_column(String(16))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    query: Mapped[str] = mapped_column(Text, default="")
    headings_language: Mapped[str | None] = mapped_column(String(5))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[StaffUser | None] = relationship()


def columns_for(names: list[str] | None) -> list[CustomerField]:
    chosen = [f for f in EXPORTABLE if not names or f.name in names]
    return chosen or list(EXPORTABLE)


def headings_for(columns: list[CustomerField], language: str | None) -> list[str]:
    """Canonical English headings, or the labels in `language` (shipping ones prefixed)."""
    if not language:
        return [f.heading for f in columns]
    with force_locale(language):
        shipping = str(SECTION_LABELS[Section.SHIPPING])
        return [f"{shipping} {f.label}" if f.section == Section.SHIPPING
                and f.name != "shipping_differs" else str(f.label) for f in columns]


def cell(value: Any, field: CustomerField) -> str:
    if value is None:
        return ""
    if field.kind == Kind.BOOL:
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def export_rows(columns: list[CustomerField], query: str) -> Iterator[list[str]]:
    """The customers matching the list's query string, in id order, batch by batch."""
    ids = customer_query(MultiDict(parse_qsl(query)))
    last = 0
    wants_groups = any(f.kind == Kind.GROUPS for f in columns)
    while True:
        batch = list(db.session.scalars(
            select(Customer).where(Customer.id.in_(ids), Customer.id > last)
            .order_by(Customer.id).limit(BATCH)
            .execution_options(populate_existing=True)))
        if not batch:
            return
        groups: dict[int, list[str]] = {}
        if wants_groups:
            members = db.session.execute(
                select(customer_group_members.c.customer_id, CustomerGroup.name)
                .join(CustomerGroup, CustomerGroup.id == customer_group_members.c.group_id)
                .where(customer_group_members.c.customer_id.in_([c.id for c in batch])))
            for customer_id, name in members:
                groups.setdefault(customer_id, []).append(name)
        for customer in batch:
            yield [", ".join(sorted(groups.get(customer.id, []))) if f.kind == Kind.GROUPS
                   else cell(getattr(customer, f.name), f) for f in columns]
        last = batch[-1].id
        db.session.expunge_all()


def export_folder() -> Path:
    folder = Path(current_app.config["EXPORT_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_export(actor: StaffUser | None, fmt: str, columns: list[str] | None, query: str,
                 headings_language: str | None) -> ExportJob:
    export = ExportJob(actor_id=actor.id if actor else None, format=fmt,
                       columns=[f.name for f in columns_for(columns)], query=query,
                       headings_language=headings_language)
    db.session.add(export)
    db.session.flush()
    return export


def write_export(export: ExportJob, path: Path | None = None) -> int:
    """Write the file of an export; returns the rows written."""
    columns = columns_for(export.columns)
    export.rows_total = db.session.scalar(select(func.count()).select_from(
        customer_query(MultiDict(parse_qsl(export.query))).subquery()))
    export_id = export.id
    db.session.commit()
    stamp = utcnow().strftime("%Y-%m-%d")
    name = f"customers-{stamp}-{export_id}.{EXTENSIONS[export.format]}"
    target = path or export_folder() / name
    headings = headings_for(columns, export.headings_language)
    count = write_worksheet(target, export.format, headings, export_rows(columns, export.query))
    export = db.session.get(ExportJob, export_id)
    export.rows_done = count
    export.file_name = name if path is None else str(path)
    export.status = ExportStatus.READY
    export.expires_at = utcnow() + timedelta(days=KEEP_DAYS)
    db.session.commit()
    return count


@job(retries=1, retry_delay=10)
def run_export(export_id: int) -> None:
    export = db.session.get(ExportJob, export_id)
    if export is None or export.status != ExportStatus.PROCESSING:
        return
    try:
        write_export(export)
    except Exception as error:  # noqa: BLE001  (recorded on the job for staff to see)
        db.session.rollback()
        export = db.session.get(ExportJob, export_id)
        export.status = ExportStatus.FAILED
        export.error = f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
        raise


@job(periodic=crontab(hour="4", minute="10"))
def remove_expired_exports() -> None:
    expired = db.session.scalars(select(ExportJob).where(ExportJob.expires_at < utcnow()))
    for export in expired:
        if export.file_name:
            (export_folder() / export.file_name).unlink(missing_ok=True)
        db.session.delete(export)
    db.session.commit()

