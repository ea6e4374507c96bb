"""Where the writing process of `flask --app wsgi customers import FILE` spends its CPU.

Run from a code folder (this checkout, or a revision bench/imports_cli.py exported), in the
instance folder that SHOPADMIN_INSTANCE_PATH names:

    python bench/import_phases.py FILE

It runs the import command in this process with the writer's stages timed in CPU seconds of
the writing thread (plan, each kind of row written, the search index, the commits, the count
of rows, the deferred indexes) and writes them as JSON to BENCH_PHASES (or prints them),
with the process's own CPU and its reading process's, and where its wall time went: the wall
seconds from the script's start to its first batch (the start), to its last batch written
(the rows), to its indexes built and to its report (the tail; the process's own exit after
the report is not in it). A stage a revision lacks is left out.
"""

import functools
import json
import os
import resource
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.getcwd())  # (the code of the folder it runs in, not the installed one)

SPENT: dict[str, float] = defaultdict(float)
WALL: dict[str, float] = {}  # wall seconds since the script's start, by moment (see _marked)
STARTED = time.perf_counter()
# The moments of the run: (module, function, moment it is first called, moment it last ends).
MOMENTS = [("shopadmin.imports.pipeline", "_flush", "first batch", "last batch written"),
           ("shopadmin.imports.deferred", "restore", None, "indexes built")]
STAGES = {
    "shopadmin.imports.plan": [("Planner", "plan"), ("Planner", "new_to_register")],
    "shopadmin.imports.write": [("BatchWriter", name) for name in (
        "_insert_customers", "_update_customers", "_insert_memberships", "_insert_undo_record",
        "_insert_audit", "_insert_consent", "_number", "insert_columns", "audit_created",
        "insert_consent_kinds")] + [(None, "insert_results")],
    "shopadmin.imports.pipeline": [(None, name) for name in (
        "insert_results", "index_new", "reindex_customers", "_count_if_new", "_flush_ready")]
    + [("_Commits", "maybe")],
    # (a batch made ready by the reading side: its whole write in _flush_ready, and parts)
    "shopadmin.imports.ready_write": [(None, name) for name in (
        "index_new", "insert_results_rows", "insert_created_record")],
    "shopadmin.imports.deferred": [(None, "set_aside"), (None, "restore")],
}


def _timed(label: str, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[label] += time.thread_time() - started
    return timed


def _marked(function, first: str | None, last: str):
    @functools.wraps(function)
    def marked(*args, **kwargs):
        if first is not None and first not in WALL:
            WALL[first] = time.perf_counter() - STARTED
        try:
            return function(*args, **kwargs)
        finally:
            WALL[last] = time.perf_counter() - STARTED
    return marked


def instrument() -> None:
    import importlib

    for module_name, name, first, last in MOMENTS:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            setattr(module, name, _marked(getattr(module, name), first, last))

    for module_name, names in STAGES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # (a revision without it)
            continue
        for owner_name, name in names:
            owner = getattr(module, owner_name, None) if owner_name else module
            if owner is None or not hasattr(owner, name):
                continue
            label = name if owner_name in (None, "BatchWriter", "Planner") else \
                f"{owner_name}.{name}"
            setattr(owner, name, _timed(label, getattr(owner, name)))


def report(started: float) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"phases": dict(sorted(SPENT.items(), key=lambda item: -item[1])),
              "writer_cpu": own.ru_utime + own.ru_stime,
              "reader_cpu": children.ru_utime + children.ru_stime,
              "seconds": time.perf_counter() - started,
              "wall": {**WALL, "report": time.perf_counter() - STARTED}}
    target = os.environ.get("BENCH_PHASES")
    if target:
        with open(target, "w") as handle:
            json.dump(result, handle)
    else:
        print(json.dumps(result, indent=1), file=sys.stderr)


def main() -> None:
    import atexit

    started = time.perf_counter()
    instrument()
    atexit.register(report, started)
    sys.argv = ["flask", "--app", "wsgi", "customers", "import", sys.argv[1]]
    from flask.cli import main as flask_main

    flask_main()


if __name__ == "__main__":
    main()
