"""staff sessions: last_seen_at, for the idle timeout

Revision ID: a7d3c9e1f2b4
Revises: 49df0c3c7722
Create Date: 2026-11-25 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7d3c9e1f2b4'
down_revision = '49df0c3c7722'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    # A session open during the upgrade counts as seen when it began.
    op.execute("UPDATE staff_sessions SET last_seen_at = created_at")


def downgrade():
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
