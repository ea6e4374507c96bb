"""tracked jobs: one set of columns (runner, heartbeat, attempts, interruption) on imports,
exports, bulk actions and mailings; bulk actions and mailings described by a search; a
mailing's submission key and digest

Revision ID: 8c4f2a6d1e93
Revises: 9b4e7a21c5d3
Create Date: 2026-11-25 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8c4f2a6d1e93'
down_revision = '9b4e7a21c5d3'
branch_labels = None
depends_on = None



def _tracked_columns(table, existing):
    if 'runner_token' not in existing:
        op.add_column(table, sa.Column('runner_token', sa.String(length=32), nullable=True))
    if 'heartbeat_at' not in existing:
        op.add_column(table, sa.Column('heartbeat_at', sa.DateTime(timezone=True),
                                       nullable=True))
    op.add_column(table, sa.Column('attempts', sa.Integer(), nullable=False,
                                   server_default='0'))
    op.add_column(table, sa.Column('interrupted_at', sa.DateTime(timezone=True), nullable=True))


def upgrade():
    _tracked_columns('import_jobs', {'heartbeat_at'})
    _tracked_columns('export_jobs', set())
    _tracked_columns('customer_bulk_jobs', set())
    _tracked_columns('mail_batches', {'runner_token', 'heartbeat_at'})
    op.add_column('customer_bulk_jobs', sa.Column('query', sa.Text(), nullable=True))
    op.add_column('customer_bulk_jobs', sa.Column('last_id', sa.Integer(), nullable=False,
                                                  server_default='0'))
    op.add_column('customer_bulk_jobs', sa.Column('error', sa.Text(), nullable=False,
                                                  server_default=''))
    op.add_column('mail_batches', sa.Column('query', sa.Text(), nullable=True))
    op.add_column('mail_batches', sa.Column('recipients_pending', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column('mail_batches', sa.Column('recipients_after', sa.Integer(), nullable=False,
                                            server_default='0'))
    op.add_column('mail_batches', sa.Column('submission', sa.String(length=64), nullable=True))
    op.add_column('mail_batches', sa.Column('digest', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_mail_batches_submission'), 'mail_batches', ['submission'],
                    unique=True)
    op.create_index(op.f('ix_mail_batches_digest'), 'mail_batches', ['digest'])


def downgrade():
    op.drop_index(op.f('ix_mail_batches_digest'), table_name='mail_batches')
    op.drop_index(op.f('ix_mail_batches_submission'), table_name='mail_batches')
    with op.batch_alter_table('mail_batches') as batch:
        for name in ('digest', 'submission', 'recipients_after', 'recipients_pending', 'query',
                     'interrupted_at', 'attempts'):
            batch.drop_column(name)
    with op.batch_alter_table('customer_bulk_jobs') as batch:
        for name in ('error', 'last_id', 'query', 'interrupted_at', 'attempts', 'heartbeat_at',
                     'runner_token'):
            batch.drop_column(name)
    with op.batch_alter_table('export_jobs') as batch:
        for name in ('interrupted_at', 'attempts', 'heartbeat_at', 'runner_token'):
            batch.drop_column(name)
    with op.batch_alter_table('import_jobs') as batch:
        for name in ('interrupted_at', 'attempts', 'runner_token'):
            batch.drop_column(name)
