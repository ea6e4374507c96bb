"""search index on PostgreSQL: one tsvector row per customer instead of a row per term

Revision ID: b5d3e9a7c214
Revises: e7b2c4d81a06
Create Date: 2026-11-26 05:00:00

PostgreSQL: `customer_search_terms` (one row per term and customer, about 16 a customer) becomes
`customer_search_vectors`: one row per customer, its terms as a tsvector with a GIN index, which
answers the same prefix searches (`'mul':*`). The upgrade fills it from the terms the old table
holds for each customer (the same terms the app computes from the customers' values, gathered
in SQL: a million customers convert in a single statement); the downgrade spreads each vector
back into a row per term. SQLite keeps its FTS5 table; nothing changes there.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'b5d3e9a7c214'
down_revision = 'e7b2c4d81a06'
branch_labels = None
depends_on = None

TERM = sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.create_table('customer_search_vectors',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('terms', postgresql.TSVECTOR(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_vectors_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_search_vectors'))
    )
    # Filled before its GIN index is made: one build of the index, not a million inserts.
    op.execute("INSERT INTO customer_search_vectors (customer_id, terms) "
               "SELECT customer_id, array_to_tsvector(array_agg(term::text)) "
               "FROM customer_search_terms GROUP BY customer_id")
    op.create_index('ix_customer_search_vectors_terms', 'customer_search_vectors', ['terms'], unique=False, postgresql_using='gin')
    op.drop_index('ix_customer_search_terms_customer_id', table_name='customer_search_terms')
    op.drop_table('customer_search_terms')


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.create_table('customer_search_terms',
    sa.Column('term', TERM, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_terms_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'customer_id', name=op.f('pk_customer_search_terms'))
    )
    op.create_index('ix_customer_search_terms_customer_id', 'customer_search_terms', ['customer_id'], unique=False)
    op.execute("INSERT INTO customer_search_terms (term, customer_id) "
               "SELECT unnest(tsvector_to_array(terms)), customer_id "
               "FROM customer_search_vectors")
    op.drop_index('ix_customer_search_vectors_terms', table_name='customer_search_vectors', postgresql_using='gin')
    op.drop_table('customer_search_vectors')
