"""customer_search_vectors: the first one and two letters of every term as lexemes of their own

Revision ID: e3b7d2a9c4f1
Revises: d5a8c3e1f7b2
Create Date: 2026-11-26 09:10:00

PostgreSQL only (SQLite's FTS5 table indexes its prefixes itself, `prefix='1 2'`). A search
word of one or two letters is then looked up as one lexeme ("^mu") instead of as a prefix whose
lists the GIN index merges (see customers/search.py).

The lexemes are added by rewriting the table once (ALTER COLUMN ... USING: every row written
anew, the indexes built in bulk afterwards), not by an UPDATE of each row, which at 1,000,000
customers took 126 s but left the table at 618 MB (243 before; half of it dead rows, which
spread a search's matches over twice the blocks) and the GIN index at 588 MB, filled through
its pending list. The rewrite took 209 s on a machine loaded by another bench (load 6 to 8 on
2 cores) and leaves 375 MB and a 492 MB index. The table is locked meanwhile: run it while the
shop is closed. The downgrade takes the lexemes off the same way.
"""
from alembic import op


revision = 'e3b7d2a9c4f1'
down_revision = 'd5a8c3e1f7b2'
branch_labels = None
depends_on = None

# Functions in pg_temp: gone with the migration's connection. A USING clause takes no subquery,
# a function's body does.
ADD = """
CREATE FUNCTION pg_temp.search_with_prefixes(terms tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
  SELECT terms || array_to_tsvector(ARRAY(
    SELECT DISTINCT '^' || left(term, letters)
    FROM unnest(tsvector_to_array(terms)) AS term, generate_series(1, 2) AS letters
    WHERE left(term, 1) <> '^'))
$$
"""
REMOVE = """
CREATE FUNCTION pg_temp.search_without_prefixes(terms tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
  SELECT ts_delete(terms, ARRAY(
    SELECT term FROM unnest(tsvector_to_array(terms)) AS term WHERE left(term, 1) = '^'))
$$
"""


def _rewrite(function_sql, function):
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute(function_sql)
    op.execute('ALTER TABLE customer_search_vectors ALTER COLUMN terms TYPE tsvector '
               f'USING pg_temp.{function}(terms)')
    op.execute(f'DROP FUNCTION pg_temp.{function}(tsvector)')
    op.execute('ANALYZE customer_search_vectors')


def upgrade():
    _rewrite(ADD, 'search_with_prefixes')


def downgrade():
    _rewrite(REMOVE, 'search_without_prefixes')
