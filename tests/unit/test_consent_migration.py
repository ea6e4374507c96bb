"""The migration to per-language consent statements loses nothing: a store's own statement
becomes its English one, and the consents recorded with the shipped English statement say so."""

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from shopadmin import create_app
from shopadmin.extensions import db

from ..factories import make_customer

BEFORE = "a2c7e9f1b354"
SHIPPED = "The customer agrees to receive marketing e-mails."


def test_the_old_statement_and_the_recorded_consents_come_through(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        try:
            _migrate_and_check(directory)
        finally:
            db.session.remove()
            db.engine.dispose()


def _migrate_and_check(directory) -> None:
    # As SQLAlchemy writes a moment on SQLite (sqlite3's own datetime adapter is deprecated).
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    upgrade(directory=directory, revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO settings (key, value, updated_at) VALUES "
            "('newsletter_consent_text', :value, :now)"),
            {"value": '"I want the Gartenwelt newsletter."', "now": now})
    customer = make_customer()  # the customers table is as it was before
    with db.engine.begin() as connection:
        for wording in (SHIPPED, "I want the Gartenwelt newsletter."):
            connection.execute(text(
                "INSERT INTO consent_events (customer_id, created_at, subscribed, source,"
                " wording) VALUES (:id, :now, 1, 'STAFF', :wording)"),
                {"id": customer.id, "now": now, "wording": wording})
    upgrade(directory=directory)
    with db.engine.connect() as connection:
        settings = dict(connection.execute(text("SELECT key, value FROM settings")).all())
        events = connection.execute(text(
            "SELECT wording, wording_language FROM consent_events ORDER BY id")).all()
    assert settings == {"newsletter_consent_texts":
                        '{"en": "I want the Gartenwelt newsletter."}'}
    assert [tuple(event) for event in events] == [
        (SHIPPED, "en"), ("I want the Gartenwelt newsletter.", "")]
    downgrade(directory=directory, revision=BEFORE)
    with db.engine.connect() as connection:
        settings = dict(connection.execute(text("SELECT key, value FROM settings")).all())
    assert settings == {"newsletter_consent_text": '"I want the Gartenwelt newsletter."'}
