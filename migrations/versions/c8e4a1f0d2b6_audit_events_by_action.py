"""audit events by action: the security and privacy logs read them newest first per action

Revision ID: c8e4a1f0d2b6
Revises: a3d9f1c5e720
Create Date: 2026-11-26 08:10:00

"""
from alembic import op


revision = 'c8e4a1f0d2b6'
down_revision = 'a3d9f1c5e720'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_events_action', 'audit_events', ['action', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_audit_events_action', table_name='audit_events')
