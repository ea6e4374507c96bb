"""forgetting customers: ids never reused on SQLite, keyed hashes of erased addresses

Revision ID: 9b4e7a21c5d3
Revises: 7f2c1d9e4a60
Create Date: 2026-11-25 23:50:00

SQLite hands out the highest id plus one, so deleting the newest customer gave the next one
the same id (and the erased person's history on its page). AUTOINCREMENT needs the table made
anew; PostgreSQL's sequences never go back and need nothing.
"""
from alembic import op
import sqlalchemy as sa


revision = '9b4e7a21c5d3'
down_revision = '7f2c1d9e4a60'
branch_labels = None
depends_on = None

SEARCH_TRIGGER = ("CREATE TRIGGER customer_search_forget AFTER DELETE ON customers BEGIN "
                  "DELETE FROM customer_search WHERE rowid = old.id; END")


def _recreate_customers(autoincrement: bool) -> None:
    """Copy the table into one made anew. Dropping the old table with foreign keys on would
    run the children's ON DELETE actions (consents, tokens, orders' links), so they are off
    meanwhile, outside a transaction (SQLite ignores the pragma inside one)."""
    context = op.get_context()
    with context.autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        with op.batch_alter_table('customers', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass
        # The trigger went with the old table.
        op.execute(SEARCH_TRIGGER)
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys=ON")
    problems = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
    if problems:
        raise RuntimeError(f"foreign keys broken by the copy: {problems[:5]}")


def upgrade():
    op.create_table(
        'erased_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_addresses')),
    )
    op.create_index(op.f('ix_erased_addresses_digest'), 'erased_addresses', ['digest'])
    if op.get_bind().dialect.name == 'sqlite':
        _recreate_customers(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _recreate_customers(autoincrement=False)
    op.drop_index(op.f('ix_erased_addresses_digest'), table_name='erased_addresses')
    op.drop_table('erased_addresses')
