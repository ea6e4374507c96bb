"""A big import into an empty register sets the customers' secondary indexes aside while it
writes, and builds them once at its end.

Filling an index row by row in the order of the file costs several times what building it
from the finished table does (SQLite sorts once): at 100,000 rows on SQLite, the customers'
inserts took 2.14 s of CPU with their eleven sorting and filtering indexes, 0.98 s without
them, plus 0.60 s to build them afterwards. (PostgreSQL's search index, a GIN index, stays: it
takes new rows into its pending list, which costs no more than building it afterwards, and a
second connection merges that list beside the import: imports/pending_list.py.) Only those
indexes go: the primary keys and the unique keys (e-mail, customer number) stay, so every
check the import and the forms rely on holds, and a list or a search that staff run meanwhile
is answered as before, more slowly, from a register that was empty.

The indexes' definitions are kept, in the transaction that drops them, as a row of the settings
table (`KEY`), and `restore` builds whatever that row names: at the end of the import, when it
fails, when it is resumed after its process died, and in `flask setup` (which `make run` runs
at every start), so a kill -9 never leaves the register without them for long.
"""

from sqlalchemy import exists, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..customers.models import Customer
from ..extensions import db
from ..settings.models import Setting

KEY = "deferred_customer_indexes"
# (PostgreSQL's search index stays: it takes the rows into its pending list, which a second
# connection merges beside the import, imports/pending_list.py.)
TABLES = ("customers",)


def _secondary_indexes(connection: Connection) -> list[list[str]]:
    """[name, CREATE INDEX statement] of every index of TABLES but the unique ones."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('customers', 'customer_search_vectors') ORDER BY name").all()
    else:
        rows = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'customers' ORDER BY indexname").all()
    return [[name, sql] for name, sql in rows
            if not sql.upper().startswith("CREATE UNIQUE")]


def set_aside() -> bool:
    """Drop the secondary indexes when the register is empty and no other import holds them
    aside; True when they were. Flushes; the caller commits (with the import's first batch)."""
    session = db.session
    savepoint = session.begin_nested()
    try:
        # The record first: a write (on SQLite this import then holds the write lock), and a
        # second import deciding at the same moment fails here on the key and goes without.
        record = Setting(key=KEY, value=[])
        session.add(record)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    if session.scalar(select(exists().where(Customer.id.is_not(None)))):
        savepoint.rollback()
        return False
    connection = session.connection()
    indexes = _secondary_indexes(connection)
    record.value = indexes
    session.flush()
    quote = connection.dialect.identifier_preparer.quote
    for name, _sql in indexes:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(name)}")
    savepoint.commit()
    return True


def restore() -> bool:
    """Build the indexes an import set aside (if any); True when there were some. Flushes;
    the caller commits."""
    session = db.session
    record = session.get(Setting, KEY)
    if record is None:
        return False
    connection = session.connection()
    for _name, sql in record.value or []:
        connection.exec_driver_sql(
            sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    session.delete(record)
    session.flush()
    return True


def held_aside() -> list[str]:
    """The names of the indexes set aside now (empty when none)."""
    record = db.session.get(Setting, KEY)
    return [name for name, _sql in (record.value if record is not None else [])]
