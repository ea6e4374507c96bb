"""Password reset tokens: only account/tokens.py reads or writes them."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import Model


class PasswordResetToken(Model):
    """One link to set a password. The token itself is never stored, only its SHA-256."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "staff": sent by the shop (account password mail); "forgot": asked for by the customer.
    purpose: Mapped[str] = mapped_column(String(16))
    # The language of the mail that carried the link: the page opens in it.
    language: Mapped[str] = mapped_column(String(5))
    # A fingerprint of the password and e-mail address the customer had when the link was made
    # (tokens.customer_stamp): any change of either, by whatever path, makes the link useless.
    password_stamp: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_password_reset_tokens_customer", "customer_id", "id"),)
