"""orders: a trigram index on the search text (a word inside a name or e-mail, found by index)

Revision ID: f4b8e2d6a913
Revises: d3a9b7c51f20
Create Date: 2026-11-26 02:00:00

PostgreSQL: pg_trgm's GIN index on orders.search_text, which serves `LIKE '%word%'` itself.
SQLite: an FTS5 table with the trigram tokenizer over the same column (external content: the
text stays in `orders` only), kept current by triggers, and filled from the orders there are.
"""
from alembic import op


revision = 'f4b8e2d6a913'
down_revision = 'd3a9b7c51f20'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    "CREATE TRIGGER order_search_insert AFTER INSERT ON orders BEGIN "
    "INSERT INTO order_search (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER order_search_delete AFTER DELETE ON orders BEGIN "
    "INSERT INTO order_search (order_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER order_search_update AFTER UPDATE OF search_text ON orders BEGIN "
    "INSERT INTO order_search (order_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO order_search (rowid, search_text) VALUES (new.id, new.search_text); END",
)


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("CREATE VIRTUAL TABLE order_search USING fts5(search_text, "
                   "content = 'orders', content_rowid = 'id', tokenize = 'trigram')")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO order_search (order_search) VALUES ('rebuild')")
        return
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_orders_search_text_trgm ON orders "
               "USING gin (search_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER order_search_{name}")
        op.execute("DROP TABLE order_search")
        return
    op.execute("DROP INDEX ix_orders_search_text_trgm")
