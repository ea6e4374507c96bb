"""erasure scrubs: SQLite's files scrubbed after forgetting customers, as a tracked job

Revision ID: a3d9f1c5e720
Revises: b5d3e9a7c214
Create Date: 2026-11-26 04:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a3d9f1c5e720'
down_revision = 'b5d3e9a7c214'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erasure_scrubs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('runner_token', sa.String(length=32), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('interrupted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_scrubs'))
    )


def downgrade():
    op.drop_table('erasure_scrubs')
