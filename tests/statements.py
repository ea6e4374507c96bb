"""The SQL statements a test's code sends the database while it looks (a real engine's event),
those of one kind, and the rows they answered (PostgreSQL counts a select's rows; SQLite
does not)."""

from collections.abc import Callable

from sqlalchemy import event

from shopadmin.extensions import db


class Statements:
    def __init__(self, kind: Callable[[str], bool] = lambda statement: True):
        self.kind = kind
        self.sent: list[str] = []
        self.rows = 0

    @property
    def count(self) -> int:
        return len(self.sent)

    def __enter__(self):
        event.listen(db.engine, "after_cursor_execute", self._heard)
        return self

    def __exit__(self, *_exc):
        event.remove(db.engine, "after_cursor_execute", self._heard)

    def _heard(self, _connection, cursor, statement, *_args):
        if self.kind(statement):
            self.sent.append(statement)
            self.rows += max(cursor.rowcount, 0)


def change_reads() -> Statements:
    """The looks for the customers written since a stamp (customers/changes.py)."""
    return Statements(lambda statement: " AS part" in statement and "UNION ALL" in statement)
