"""SQLite: while an import writes, a second connection copies what it committed from the log
into the database file (imports/checkpoints.py), without making the writer wait."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

import shopadmin.database  # noqa: F401  (the SQLite settings of every connection: WAL)
from shopadmin.imports.checkpoints import checkpointed_beside

PAYLOAD = "x" * 4000  # about a page a row


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    yield engine
    engine.dispose()


def _write(connection, rows: int) -> None:
    with connection.begin():
        connection.execute(text("INSERT INTO t (body) VALUES (:body)"),
                           [{"body": PAYLOAD}] * rows)


def _file_pages(path) -> int:
    return path.stat().st_size // 4096


def _database_grows(engine, path, beside: bool) -> bool:
    """Commit 500 pages on a connection that never checkpoints itself (and stays open, so no
    close copies the log either); whether the database file grew within a second."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
        connection.commit()
        before = _file_pages(path)
        if beside:
            with checkpointed_beside(engine, interval=0.01):
                _write(connection, 500)
                deadline = time.monotonic() + 1
                while _file_pages(path) <= before and time.monotonic() < deadline:
                    time.sleep(0.01)
                _write(connection, 10)  # (the writer goes on meanwhile)
        else:
            _write(connection, 500)
            time.sleep(0.2)
        grew = _file_pages(path) > before + 400
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 1000")
        connection.commit()
    return grew


def test_the_log_is_copied_into_the_database_beside_the_writer(engine, tmp_path):
    path = tmp_path / "log.db"
    assert not _database_grows(engine, path, beside=False)
    assert _database_grows(engine, path, beside=True)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM t")) == 1010


def test_a_database_of_one_connection_is_left_alone(tmp_path):
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with checkpointed_beside(engine, interval=0.01), engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        time.sleep(0.05)
    engine.dispose()
