"""Column types and engine settings shared by every model."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC; used as a callable column default."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record):
    """WAL and a busy timeout: the web process and the job worker write to one file together."""
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten, not left readable in free space of the file (erasure).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def scrub_written_pages(connection) -> None:
    """After customers were forgotten (and committed): on SQLite, rebuild the search indexes
    (customers, orders) without their terms, write the log back into the database file and
    empty it, so that no earlier version of their rows stays in either file."""
    if connection.dialect.name == "sqlite":
        # The full-text index keeps a deleted row's terms in its segments until they merge.
        with connection.begin():
            connection.exec_driver_sql(
                "INSERT INTO customer_search(customer_search) VALUES ('optimize')")
            # The orders' trigram index likewise holds the names their orders were stripped of.
            connection.exec_driver_sql(
                "INSERT INTO order_search(order_search) VALUES ('optimize')")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
