"""Work on a second connection beside a big import: a thread that runs while a block does
(pending_list: the search index's pending list merged on PostgreSQL; checkpoints: SQLite's
log copied into the database), so that it runs on the other core, not in the import's turn."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def thread_beside(work: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """While the block runs, work(stop) in a thread of its own; `stop` is set as the block
    ends, and the thread is waited for."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,), daemon=True, name=name)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
