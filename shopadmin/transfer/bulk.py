"""executemany at driver speed for a Core statement, on SQLite and PostgreSQL alike.

SQLAlchemy's own executemany builds a parameter dict and runs every type processor through
several layers per row, which costs more than the database's own work at a million rows. Here
the statement is compiled once for the connection's dialect, the column types' bind processors
are looked up once, and the rows go to the driver's executemany as plain tuples (or dicts, for
a driver with named parameters). The SQL is SQLAlchemy's, so it is right for either database.
"""

from collections.abc import Sequence
from typing import Any

from ..extensions import db

_cache: dict[tuple, tuple] = {}


def _prepare(statement, keys: tuple[str, ...], dialect, cache_key):
    prepared = _cache.get(cache_key) if cache_key is not None else None
    if prepared is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        fixed = {name: bind.value for name, bind in compiled.binds.items()
                 if not bind.required and name not in keys}
        processors = [compiled.binds[name].type._cached_bind_processor(dialect)
                      for name in names]
        prepared = (str(compiled), names, fixed, processors, compiled.positional)
        if cache_key is not None:
            _cache[cache_key] = prepared
    return prepared


def execute_many(statement, rows: Sequence[dict[str, Any]], cache_key=None) -> int:
    """Run the statement once per row (every row with the same keys); returns the row count.

    cache_key: a hashable naming the statement, for statements without per-call constants;
    leave it None when the statement carries values (like a timestamp) of this call.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    full_key = (cache_key, keys, dialect.name) if cache_key is not None else None
    sql, names, fixed, processors, positional = _prepare(statement, keys, dialect, full_key)
    pairs = list(zip(names, processors, strict=True))
    if positional:
        params = []
        for row in rows:
            values = []
            for name, process in pairs:
                value = row[name] if name in row else fixed[name]
                values.append(process(value) if process is not None and value is not None
                              else value)
            params.append(tuple(values))
    else:
        params = []
        for row in rows:
            values = {}
            for name, process in pairs:
                value = row[name] if name in row else fixed[name]
                values[name] = (process(value) if process is not None and value is not None
                                else value)
            params.append(values)
    result = connection.exec_driver_sql(sql, params)
    return result.rowcount
