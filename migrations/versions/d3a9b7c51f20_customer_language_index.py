"""customers: an index on the language (the list filters any of some 180 languages)

Revision ID: d3a9b7c51f20
Revises: 8c4f2a6d1e93
Create Date: 2026-11-26 00:20:00

"""
from alembic import op


revision = 'd3a9b7c51f20'
down_revision = '8c4f2a6d1e93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_customers_language'), 'customers', ['language'])


def downgrade():
    op.drop_index(op.f('ix_customers_language'), table_name='customers')
