"""PostgreSQL: while an import writes, a second connection merges the search index's pending
list into the index, so that the GIN index's share of the work runs beside the import instead
of in its turn.

A GIN index takes new entries into a pending list (`fastupdate`) and merges that list into its
tree once it outgrows `gin_pending_list_limit` (4 MB): in the backend that happens to insert
then, the import's own, which waits for it. At 100,000 new customers the merging (or a build
of the index after the rows, as the import did before) costs the server about 3 s of CPU,
more than the customers' COPY itself. Here a thread of the writing process calls
`gin_clean_pending_list` on a connection of its own a few times a second: its backend merges
on the other core while the import goes on; an inserting backend that finds a merge under way
does not wait for it, it goes on filling the list. Nothing about what is stored changes: the
pending list is part of the index (a search reads it too), and its entries are the same
whether merged by one backend or another, committed or not.

The merging is an optimisation only: when it cannot run (the index's owner is another role,
the index is missing, the connection fails) the import writes on and merges as before. No
Flask here: the writer gives the engine.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from .beside import thread_beside

log = logging.getLogger(__name__)

INDEX = "ix_customer_search_vectors_terms"
# Seconds between two merges: a 2,000-row batch adds some 1.5 MB to the list, and the import's
# backend merges it itself past 4 MB unless a merge is under way (at 100,000 rows: every 0.2 s,
# the second connection merged 2.7 s of the 4.0 s; every second, 0.9 s).
INTERVAL = 0.2


@contextmanager
def merged_beside(engine: Engine, interval: float = INTERVAL) -> Iterator[None]:
    """While the block runs, merge the search index's pending list from a second connection
    every `interval` seconds (PostgreSQL; elsewhere nothing)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with thread_beside(lambda stop: _merge(engine, stop, interval), "gin-pending-list"):
        yield


def _merge(engine: Engine, stop: threading.Event, interval: float) -> None:
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            merge = f"SELECT gin_clean_pending_list('{INDEX}'::regclass)"
            while not stop.wait(interval):
                connection.exec_driver_sql(merge)
            # What the last batches left: merged now, so that no search after the import
            # reads it from the list (a merge otherwise waits for the next writes).
            connection.exec_driver_sql(merge)
    except Exception:  # (an optimisation: the import merges in its own turn, as before)
        log.warning("the search index's pending list is not merged beside the import",
                    exc_info=True)
