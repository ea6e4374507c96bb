"""search on PostgreSQL: the ids of the lexemes many customers share, kept in a table

Revision ID: f2d8b6a4c1e7
Revises: c6f2a8d4e1b9
Create Date: 2026-11-26 19:30:00

`customer_search_common`: one row a lexeme that thousands of customers share (a city, a first
name), holding its customers' ids as 4-byte integers and the register's stamp they were read
at (customers/common_lexemes.py). The worker's job fills it within a minute and keeps it; until
then, and wherever it says nothing, a search reads the GIN index as before. Its ids are stored
out of line without compression (integers hardly compress; reading them back stays a copy).
SQLite needs none of it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2d8b6a4c1e7'
down_revision = 'c6f2a8d4e1b9'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.create_table('customer_search_common',
    sa.Column('lexeme', sa.Text(collation='C'), nullable=False),
    sa.Column('stamp', sa.Text(), nullable=False),
    sa.Column('ids', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('lexeme', name=op.f('pk_customer_search_common'))
    )
    op.execute("ALTER TABLE customer_search_common ALTER COLUMN ids SET STORAGE EXTERNAL")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.drop_table('customer_search_common')
