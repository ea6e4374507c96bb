"""SQLite: while an import writes, a second connection copies what it committed from the
write-ahead log into the database file (a checkpoint), so that this copying runs beside the
import instead of in its turn.

In WAL mode every committed page goes to the log first, and a checkpoint copies the log into
the database once it outgrows `wal_autocheckpoint` pages (the import sets 20,000: 80 MB), in
the connection whose commit crossed that line: the import's own, which waits for it; and the
last connection to close copies whatever is left, after the import's last row (at 100,000
new customers, some 110 MB: a third of a second between the import's end and the command's).
Here a thread of the writing process runs a passive checkpoint on a connection of its own a
few times a second: it copies the frames committed so far without waiting for anyone and
without holding up the writer (SQLite lets a checkpoint run beside a writer, which goes on
appending to the log and starts it again from its head once it has all been copied), and the
driver lets go of Python's lock while SQLite works, so the copying runs on the other core.
Nothing about what is stored changes; the checkpoint is SQLite's own, as the import's commit
would have made it.

An optimisation only: when it cannot run, the import checkpoints in its own turn, as before.
pending_list.py does the same for PostgreSQL's search index. No Flask here: the writer gives
the engine.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from .beside import thread_beside

log = logging.getLogger(__name__)

# Seconds between two checkpoints (a commit every 10,000 rows or second adds some 10 MB).
INTERVAL = 0.25


@contextmanager
def checkpointed_beside(engine: Engine, interval: float = INTERVAL) -> Iterator[None]:
    """While the block runs, checkpoint the database's log from a second connection every
    `interval` seconds (SQLite on a file, through a pool of connections; else nothing: a
    database in memory, or a pool of one connection, has no second one)."""
    if engine.dialect.name != "sqlite" or not isinstance(engine.pool, QueuePool):
        yield
        return
    with thread_beside(lambda stop: _checkpoint(engine, stop, interval), "wal-checkpoint"):
        yield


def _checkpoint(engine: Engine, stop: threading.Event, interval: float) -> None:
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            while not stop.wait(interval):
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            cursor.close()
        finally:
            raw.close()
    except Exception:  # (an optimisation: the import checkpoints in its own turn, as before)
        log.warning("the database's log is not checkpointed beside the import", exc_info=True)
