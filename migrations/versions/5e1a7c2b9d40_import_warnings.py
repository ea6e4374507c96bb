"""import warnings: rows imported with warnings, the import that created a customer, the
headings of a remembered mapping

Revision ID: 5e1a7c2b9d40
Revises: a7d3c9e1f2b4
Create Date: 2026-11-25 23:00:00

Columns are added in place (no table is copied: the customers table may hold millions).
"""
from alembic import op
import sqlalchemy as sa


revision = '5e1a7c2b9d40'
down_revision = 'a7d3c9e1f2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('customers', sa.Column('import_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_customers_import_id'), 'customers', ['import_id'])
    op.add_column('import_jobs', sa.Column('warned', sa.Integer(), nullable=False,
                                           server_default='0'))
    op.add_column('import_row_results', sa.Column('warnings', sa.JSON(), nullable=False,
                                                  server_default='[]'))
    op.add_column('import_row_results', sa.Column('rejected', sa.Boolean(), nullable=False,
                                                  server_default=sa.true()))
    op.add_column('import_row_results', sa.Column('customer_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_import_row_results_customer_id'), 'import_row_results',
                    ['customer_id'])
    op.add_column('import_mappings', sa.Column('headings', sa.JSON(), nullable=True))


def downgrade():
    op.drop_index(op.f('ix_import_row_results_customer_id'), table_name='import_row_results')
    with op.batch_alter_table('import_mappings') as batch:
        batch.drop_column('headings')
    with op.batch_alter_table('import_row_results') as batch:
        batch.drop_column('customer_id')
        batch.drop_column('rejected')
        batch.drop_column('warnings')
    with op.batch_alter_table('import_jobs') as batch:
        batch.drop_column('warned')
    op.drop_index(op.f('ix_customers_import_id'), table_name='customers')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('import_id')
