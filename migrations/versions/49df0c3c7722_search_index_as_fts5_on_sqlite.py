"""search index as FTS5 on SQLite; no staging table

Revision ID: 49df0c3c7722
Revises: 551746e06926
Create Date: 2026-11-23 07:45:00.000000

On SQLite the search index becomes one FTS5 row per customer (its terms as tokens) instead of
one table row per term; the terms already indexed move over. PostgreSQL keeps its terms table.
The staging table of the bulk loads goes on both.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '49df0c3c7722'
down_revision = '551746e06926'
branch_labels = None
depends_on = None

TERM = sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql')


def upgrade():
    op.drop_table('customer_search_staging')
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute("CREATE VIRTUAL TABLE customer_search USING fts5("
               "terms, tokenize = \"ascii tokenchars '@.-_+'\", detail = none, columnsize = 0, prefix = '1 2')")
    op.execute("CREATE TRIGGER customer_search_forget AFTER DELETE ON customers BEGIN "
               "DELETE FROM customer_search WHERE rowid = old.id; END")
    op.execute("INSERT INTO customer_search (rowid, terms) "
               "SELECT customer_id, group_concat(term, ' ') FROM customer_search_terms "
               "GROUP BY customer_id")
    op.drop_index('ix_customer_search_terms_customer_id', table_name='customer_search_terms')
    op.drop_table('customer_search_terms')


def downgrade():
    op.create_table('customer_search_staging',
    sa.Column('term', TERM, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_staging_customer_id_customers'), ondelete='CASCADE')
    )
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.create_table('customer_search_terms',
    sa.Column('term', TERM, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_terms_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'customer_id', name=op.f('pk_customer_search_terms')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_customer_search_terms_customer_id', 'customer_search_terms', ['customer_id'], unique=False)
    op.execute("WITH RECURSIVE split(customer_id, term, rest) AS ("
               "SELECT rowid, '', terms || ' ' FROM customer_search UNION ALL "
               "SELECT customer_id, substr(rest, 1, instr(rest, ' ') - 1), "
               "substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> '') "
               "INSERT OR IGNORE INTO customer_search_terms (term, customer_id) "
               "SELECT term, customer_id FROM split WHERE term <> ''")
    op.execute("DROP TRIGGER customer_search_forget")
    op.execute("DROP TABLE customer_search")
