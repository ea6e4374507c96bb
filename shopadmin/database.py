"""Column types and engine settings shared by every model."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import DateTime, Integer, event, func, literal, select
from sqlalchemy import Enum as EnumType
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC; used as a callable column default."""
    return datetime.now(UTC)


class RowsPagination(SelectPagination):
    """db.paginate's page for a select of several columns: its items are whole rows (an entity
    with a computed column, say), not their first column."""

    def _query_items(self) -> list[Any]:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate_rows(session, select, *, page: int, per_page: int) -> RowsPagination:
    """Like db.paginate(select, page=, per_page=, error_out=False), for rows of several columns.
    Every paged list but the customer list (customers/paging.py) goes by one of the two."""
    return RowsPagination(select=select, session=session, page=page, per_page=per_page,
                          max_per_page=None, error_out=False)


def among(column, ids: Sequence[int], dialect: str):
    """`column` among these ids, sent as one parameter: a JSON array on SQLite (json_each), an
    integer array on PostgreSQL. Thousands of bound values cost the process more to send than
    the database to read: 20,000 ids took some 150 ms of this process's CPU as an IN list."""
    if dialect == "sqlite":
        listed = func.json_each(literal(json.dumps(list(ids)))).table_valued("value")
        return column.in_(select(listed.c.value))
    # A semi-join of the unnested array: each row looked up by its key. As `= ANY`, a plan
    # kept for the statement may walk another index and test each row (measured: 1,546 ids
    # 207 ms, as a join 2 ms).
    return column.in_(select(func.unnest(literal(list(ids), type_=ARRAY(Integer)))))


def json_value(value: Any) -> Any:
    """A column value as JSON keeps it (audit events, an import's undo record and preview, a
    privacy export): an enum as its value, a day or a moment in ISO 8601, a list item by item.
    Read back by the column's type (imports/plan.py's from_json)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def enum_type(kind: type[Enum]) -> EnumType:
    """The column type of an enum: its values (not its names) in a VARCHAR(16) with a check,
    alike on SQLite and PostgreSQL (no native enum type to migrate)."""
    return EnumType(kind, native_enum=False, length=16,
                    values_callable=lambda members: [m.value for m in members])


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


def driver_reason(error: BaseException) -> str:
    """The first line of a database error as its driver put it: host and port, never the
    password (the URL is not in it)."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
