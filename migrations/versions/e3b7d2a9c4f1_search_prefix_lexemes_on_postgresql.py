"""customer_search_vectors: the first one and two letters of every term as lexemes of their own

Revision ID: e3b7d2a9c4f1
Revises: d5a8c3e1f7b2
Create Date: 2026-11-26 09:10:00

PostgreSQL only (SQLite's FTS5 table indexes its prefixes itself, `prefix='1 2'`). A search
word of one or two letters is then looked up as one lexeme ("^mu") instead of as a prefix whose
lists the GIN index merges (see customers/search.py). The lexemes are added to every customer's
vector in batches of BATCH ids, and the table analysed (the list asks the planner how many a
search matches); at 1,000,000 customers this took 126 s (78 s of the server's CPU, machine
load 7 on 2 cores); the table grew from 243 to 618 MB until vacuumed (its dead rows are reused),
the GIN index from 464 to 588 MB. The downgrade takes them off again.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e3b7d2a9c4f1'
down_revision = 'd5a8c3e1f7b2'
branch_labels = None
depends_on = None

BATCH = 50_000
ADD = sa.text(
    "UPDATE customer_search_vectors SET terms = terms || array_to_tsvector(ARRAY("
    "SELECT DISTINCT '^' || left(term, letters) "
    "FROM unnest(tsvector_to_array(terms)) AS term, generate_series(1, 2) AS letters "
    "WHERE left(term, 1) <> '^')) "
    "WHERE customer_id >= :low AND customer_id < :high")
REMOVE = sa.text(
    "UPDATE customer_search_vectors SET terms = ts_delete(terms, ARRAY("
    "SELECT term FROM unnest(tsvector_to_array(terms)) AS term WHERE left(term, 1) = '^')) "
    "WHERE customer_id >= :low AND customer_id < :high")


def _each_batch(statement):
    connection = op.get_bind()
    if connection.dialect.name != 'postgresql':
        return
    highest = connection.scalar(sa.text('SELECT max(customer_id) FROM customer_search_vectors'))
    for low in range(0, (highest or 0) + 1, BATCH):
        connection.execute(statement, {'low': low, 'high': low + BATCH})


def upgrade():
    _each_batch(ADD)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE customer_search_vectors')


def downgrade():
    _each_batch(REMOVE)
