"""Notification templates, the mail log, batches (campaigns) and the local outbox."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import StaffUser
from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import Model
from ..tracking import TrackedJob


class NotificationTemplate(Model):
    """A template an admin changed. Without a row, the text shipped in defaults/ applies."""

    __tablename__ = "notification_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    updated_by: Mapped[StaffUser | None] = relationship()

    __table_args__ = (UniqueConstraint("key", "language"),)


class MailStatus(enum.StrEnum):
    QUEUED = "queued"    # waiting to be sent (again, after next_attempt_at when set)
    SENDING = "sending"  # handed to the mail server right now; never sent twice automatically
    SENT = "sent"
    FAILED = "failed"    # given up; staff may retry


class BatchStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # the mail server was unreachable; the job comes back later
    DONE = "done"


class MailBatch(TrackedJob, Model):
    """A mailing to many customers, followed like a campaign; one MailLog row per recipient."""

    __tablename__ = "mail_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    template_key: Mapped[str] = mapped_column(String(32))
    # How the recipients were chosen: "selection", "filter", "import", "resend"; origin_id names
    # the import or the earlier batch.
    origin: Mapped[str] = mapped_column(String(16), default="selection")
    origin_id: Mapped[int | None]
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus), default=BatchStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # A mailing described instead of listed (everyone a search matches: `query`, the list's
    # arguments; everyone an import created: origin "import"): the worker adds the recipients,
    # by customer id after recipients_after, until none is pending.
    query: Mapped[str | None] = mapped_column(Text)
    recipients_pending: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    recipients_after: Mapped[int] = mapped_column(default=0, server_default="0")
    # The same send submitted twice (a double click, two tabs) makes one mailing: the form's
    # one-time key, and the digest of what it sends to, which a colleague's send of the same
    # within a few minutes shares.
    submission: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    digest: Mapped[str | None] = mapped_column(String(64), index=True)

    created_by: Mapped[StaffUser | None] = relationship()


class MailLog(Model):
    """One mail to one recipient: what, in which language, and what became of it."""

    __tablename__ = "mail_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("mail_batches.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))
    template_key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    # What kind of trouble the error was (see delivery.ErrorKind), for a translated explanation.
    error_kind: Mapped[str] = mapped_column(String(16), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The link this mail carried (the latest attempt's), to follow it: used, expired.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("password_reset_tokens.id", ondelete="SET NULL")
    )
    # A test mail to a staff member: rendered with example data, carries no working link.
    is_test: Mapped[bool] = mapped_column(default=False)

    batch: Mapped[MailBatch | None] = relationship()

    __table_args__ = (
        # Never the same customer twice in one batch, whatever happens to the worker.
        UniqueConstraint("batch_id", "customer_id"),
        Index("ix_mail_logs_batch_status", "batch_id", "status", "id"),
        Index("ix_mail_logs_customer", "customer_id", "id"),
        Index("ix_mail_logs_status", "status", "id"),
    )


class OutboxMessage(Model):
    """A mail kept locally instead of sent, when no SMTP server is configured."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mail_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_logs.id", ondelete="SET NULL")
    )
    sender: Mapped[str] = mapped_column(String(254))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
