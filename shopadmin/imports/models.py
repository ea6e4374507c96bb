"""Imports: the job and its state, the rejected rows, the undo record, remembered mappings.

The job's state lives here, not in the queue: a worker that dies mid-import leaves a row whose
heartbeat goes stale, and the import resumes from `rows_done`, which is committed together with
each batch it counts.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import StaffUser
from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import Model
from ..tracking import TrackedJob


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    MAPPED = "mapped"
    PREVIEWED = "previewed"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    UNDONE = "undone"
    DISCARDED = "discarded"  # an upload never applied, its file removed (imports/discard.py)


class ImportTask(enum.StrEnum):
    """What the worker is doing for the import right now."""

    PREVIEW = "preview"
    APPLY = "apply"
    UNDO = "undo"


class ImportJob(TrackedJob, Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="customers")
    # Relative to the instance folder's upload folder, never a path a user chose.
    file_path: Mapped[str] = mapped_column(String(255))
    original_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8), default="csv")
    encoding: Mapped[str | None] = mapped_column(String(32))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    has_headings: Mapped[bool] = mapped_column(default=True)
    headings: Mapped[list[str]] = mapped_column(JSON, default=list)
    mapping: Mapped[list[str | None]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus),
                                                 default=ImportStatus.UPLOADED)
    task: Mapped[ImportTask | None] = mapped_column(enum_type(ImportTask))
    error: Mapped[str] = mapped_column(Text, default="")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    # Data rows worked through (committed with the batch they end); the counts add up to it.
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    # Rows imported with a warning (a value left out, cut or cleaned); not a count of its own
    # beside the four above, which add up to rows_done.
    warned: Mapped[int] = mapped_column(default=0)
    # The dry run's counts and a sample of its field-level differences.
    preview: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Customers the undo left alone because they were changed after the import.
    undo_skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    created_by: Mapped[StaffUser | None] = relationship()

    @property
    def running(self) -> bool:
        return self.task is not None

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ImportRowResult(Model):
    """A row with problems: its cells as read and what is wrong with them. A rejected row
    (`errors` say why) is not in the register; any other one was imported, and its warnings say
    what was left out, cut or cleaned."""

    __tablename__ = "import_row_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row: Mapped[int]
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"column": heading or None, "value": str, "message": translated text}, ...]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rejected: Mapped[bool] = mapped_column(default=True)
    # The customer an imported row went into.
    customer_id: Mapped[int | None] = mapped_column(index=True)

    __table_args__ = (Index("ix_import_row_results_import", "import_id", "row"),)


class ImportChange(Model):
    """The undo record: the customers a batch created (one row per batch, their ids), or one
    customer the import updated, with the values it had before.

    version_after is the version the import left; a customer whose version has moved on since
    was changed by someone (or something) else, and undo leaves it alone. Created customers
    start at version 1.
    """

    __tablename__ = "import_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None]  # None on a batch's row of created customers
    created_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    previous: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    added_group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    version_after: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_import_changes_import", "import_id", "id"),)


class ImportMapping(Model):
    """The mapping staff last confirmed for files with these headings."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), unique=True)
    # The headings as the file had them, so that a file with one more column is still
    # mapped as before (None in mappings remembered before they were kept).
    headings: Mapped[list[str] | None] = mapped_column(JSON)
    mapping: Mapped[list[str | None]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
