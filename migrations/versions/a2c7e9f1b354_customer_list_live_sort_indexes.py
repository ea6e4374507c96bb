"""customers: the list's sort orders as partial indexes of live customers

Revision ID: a2c7e9f1b354
Revises: f4b8e2d6a913
Create Date: 2026-11-26 02:00:00

A page, a count or the list's anchors step through one of these indexes alone (the trash left
out by the index itself, not by reading each row's deleted_at). The name, created and modified
indexes take the place of the full ones; e-mail and customer number get one beside their
unique index. The language filter's index holds the name too (a deep page of a common
language, in the default order, is read from the index alone).
"""
from alembic import op
import sqlalchemy as sa


revision = 'a2c7e9f1b354'
down_revision = 'f4b8e2d6a913'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
INDEXES = {
    'name': ['last_name', 'first_name', 'id'],
    'email': ['email_key'],
    'created': ['created_at', 'id'],
    'modified': ['updated_at', 'id'],
    'number': ['customer_number', 'id'],
    'language': ['language', 'last_name', 'first_name', 'id'],
}
REPLACED = {
    'ix_customers_language': ['language'],
    'ix_customers_name': ['last_name', 'first_name', 'id'],
    'ix_customers_created_at': ['created_at'],
    'ix_customers_updated_at': ['updated_at'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(f'ix_customers_live_{name}', 'customers', columns,
                        sqlite_where=LIVE, postgresql_where=LIVE)
    for name in REPLACED:
        op.drop_index(name, table_name='customers')


def downgrade():
    for name, columns in REPLACED.items():
        op.create_index(name, 'customers', columns)
    for name in INDEXES:
        op.drop_index(f'ix_customers_live_{name}', table_name='customers')
