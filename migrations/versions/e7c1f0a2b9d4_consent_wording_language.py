"""consent events: the language of the wording agreed to; the store's consent wording per language

Revision ID: e7c1f0a2b9d4
Revises: a2c7e9f1b354
Create Date: 2026-11-26 01:40:00

"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = 'e7c1f0a2b9d4'
down_revision = 'a2c7e9f1b354'
branch_labels = None
depends_on = None

SHIPPED_ENGLISH = "The customer agrees to receive marketing e-mails."


def _now(connection):
    """Now, as the settings table keeps it (naive UTC on SQLite)."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now


def upgrade():
    with op.batch_alter_table('consent_events') as batch:
        batch.add_column(sa.Column('wording_language', sa.String(length=8), nullable=False,
                                   server_default=''))
    # Until now every consent was recorded with the one English statement (or a store's own
    # text, whose language nobody recorded: it stays "").
    consent = sa.table('consent_events', sa.column('wording', sa.Text),
                       sa.column('wording_language', sa.String))
    op.execute(consent.update().where(consent.c.wording == SHIPPED_ENGLISH)
               .values(wording_language='en'))
    # A store's own statement (one text, no language) becomes its English one.
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON),
                        sa.column('updated_at', sa.DateTime))
    connection = op.get_bind()
    old = connection.execute(sa.select(settings.c.value).where(
        settings.c.key == 'newsletter_consent_text')).scalar()
    if isinstance(old, str) and old.strip() and old.strip() != SHIPPED_ENGLISH:
        exists = connection.execute(sa.select(settings.c.key).where(
            settings.c.key == 'newsletter_consent_texts')).first()
        if exists is None:
            connection.execute(settings.insert().values(
                key='newsletter_consent_texts', value={"en": old.strip()},
                updated_at=_now(connection)))
    connection.execute(settings.delete().where(settings.c.key == 'newsletter_consent_text'))


def downgrade():
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON),
                        sa.column('updated_at', sa.DateTime))
    connection = op.get_bind()
    texts = connection.execute(sa.select(settings.c.value).where(
        settings.c.key == 'newsletter_consent_texts')).scalar()
    if isinstance(texts, str):
        texts = json.loads(texts)
    if texts and texts.get("en"):
        connection.execute(settings.insert().values(
            key='newsletter_consent_text', value=texts["en"],
            updated_at=_now(connection)))
    connection.execute(settings.delete().where(settings.c.key == 'newsletter_consent_texts'))
    with op.batch_alter_table('consent_events') as batch:
        batch.drop_column('wording_language')
