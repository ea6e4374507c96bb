"""Huey, imported without psycopg.

huey.storage imports psycopg, when it is installed, for a PostgreSQL storage of its own, which
we do not use (our queue is on SQLite or Redis): 0.05-0.1 s of every process's start, and on
SQLite nothing else wants psycopg (SQLAlchemy imports it itself where DATABASE_URL needs it).
Import Huey's names from here, before anything else loads huey.storage.
"""

import sys


def _without_psycopg() -> None:
    """Import huey.storage (once) with psycopg out of its sight, unless psycopg is loaded."""
    if "huey.storage" in sys.modules or "psycopg" in sys.modules:
        return
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # (`import psycopg` fails)
    try:
        import huey.storage  # noqa: F401
    finally:
        del sys.modules["psycopg"]


_without_psycopg()

from huey import Huey  # noqa: E402
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage  # noqa: E402

__all__ = ["Huey", "MemoryStorage", "RedisStorage", "SqliteStorage"]
