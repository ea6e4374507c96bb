"""reset tokens: the stamp covers the e-mail address as well as the password

Revision ID: 7f2c1d9e4a60
Revises: 5e1a7c2b9d40
Create Date: 2026-11-25 23:30:00

Open links keep working across the upgrade: each one whose stamp still matches the customer's
password gets the new stamp of password and address. The formulas are copied here on purpose
(a migration must not change when the application code does); see account/tokens.py.
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '7f2c1d9e4a60'
down_revision = '5e1a7c2b9d40'
branch_labels = None
depends_on = None


def _old(password_hash):
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _new(password_hash, email_key):
    material = f"{password_hash or ''}\0{email_key or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _restamp(upgrade: bool) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT t.id, t.password_stamp, c.password_hash, c.email_key "
        "FROM password_reset_tokens t JOIN customers c ON c.id = t.customer_id "
        "WHERE t.used_at IS NULL AND t.revoked_at IS NULL")).all()
    changes = []
    for token_id, stamp, password_hash, email_key in rows:
        before, after = ((_old(password_hash), _new(password_hash, email_key)) if upgrade
                         else (_new(password_hash, email_key), _old(password_hash)))
        if stamp == before:
            changes.append({"id": token_id, "stamp": after})
    if changes:
        connection.execute(sa.text(
            "UPDATE password_reset_tokens SET password_stamp = :stamp WHERE id = :id"), changes)


def upgrade():
    _restamp(upgrade=True)


def downgrade():
    _restamp(upgrade=False)
