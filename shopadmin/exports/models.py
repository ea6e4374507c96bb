"""An export: the job's row (what is exported, how far it got, where its file is)."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import StaffUser
from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import Model
from ..tracking import TrackedJob
from .kinds import EXPORT_KINDS, ExportKind


class ExportStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ExportJob(TrackedJob, Model):
    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    # What is exported: a name in EXPORT_KINDS ("customers", "orders").
    kind: Mapped[str] = mapped_column(String(16), default="customers", server_default="customers")
    status: Mapped[ExportStatus] = mapped_column(
        enum_type(ExportStatus), default=ExportStatus.PROCESSING)
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

    @property
    def export_kind(self) -> ExportKind:
        return EXPORT_KINDS[self.kind]

    @property
    def percent(self) -> int:
        if self.status != ExportStatus.PROCESSING:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
