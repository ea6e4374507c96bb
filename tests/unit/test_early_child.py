"""A reading process started before its work is known (parallel.start_early) prepares, then
takes the work of the first factory of its preparing function's module, with the byte of
shared memory it was started with; a factory of another module gets a child of its own."""

import os

from shopadmin import parallel
from shopadmin.imports.reading import prepare_reading
from shopadmin.parallel import early_shared, start_early, started_in_child


def _prepare_nothing() -> None:
    pass


def _pids_and_flags(flag, count: int):
    for _ in range(count):
        yield [os.getpid(), flag.value if flag is not None else None]


def test_the_early_child_does_the_first_work_of_its_module_with_its_shared_byte():
    start_early(_prepare_nothing)
    early = parallel._early[-1]
    flag = early_shared(__name__)
    assert flag is early.shared
    flag.value = 0  # (set by this process; the child reads it)
    items = list(started_in_child(spawned=(_pids_and_flags, (flag, 2))))
    assert items == [[early.child.pid, 0], [early.child.pid, 0]]
    assert early_shared(__name__) is None  # taken: the next work spawns a child of its own
    again = list(started_in_child(spawned=(_pids_and_flags, (None, 1))))
    assert again[0][0] not in (early.child.pid, os.getpid())


def test_a_factory_of_another_module_leaves_the_early_child_waiting():
    start_early(prepare_reading)
    early = parallel._early[-1]
    try:
        items = list(started_in_child(spawned=(_pids_and_flags, (None, 1))))
        assert items[0][0] != early.child.pid
        assert early_shared("shopadmin.imports.reading") is early.shared
    finally:
        parallel._early.remove(early)
        early.child.terminate()
        early.child.join(timeout=5)
        early.orders.close()


def _endless():
    while True:
        yield ["x" * 200_000]


ORPHAN = """\
import multiprocessing, time
from shopadmin.parallel import started_in_child
from tests.unit.test_early_child import _endless
if __name__ == "__main__":
    rows = started_in_child(spawned=(_endless, ()))
    next(rows)
    print(multiprocessing.active_children()[0].pid, flush=True)
    time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_reading_child_whose_parent_was_killed_ends(tmp_path):
    """(Its queue full, it sees its parent gone and ends, although its pipe holds a batch
    that no one will read.)"""
    import signal
    import subprocess
    import sys
    import time

    from shopadmin.config import PROJECT_ROOT

    script = tmp_path / "parent.py"
    script.write_text(ORPHAN, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    for _ in range(100):
        if not _running(child):
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the reading child outlived its parent")


def _plan_of(path):
    from shopadmin.imports.reading import ReadingPlan
    from shopadmin.sheets.readers import open_worksheet

    sheet = open_worksheet(path)
    return ReadingPlan(str(path), bool(sheet.headings), sheet.encoding, sheet.delimiter,
                       ["email", "first_name"], None, False, 0, "en")


def _rows_counted_by_early_child(counted_path, read_path) -> tuple[int | None, int]:
    """An early child given `counted_path` to count while it waits, then the rows of
    `read_path`: what it said the count was, and how many rows came."""
    from shopadmin.imports.reading import read_in_child, start_reading_early

    start_reading_early(str(counted_path))
    backlog = parallel.Backlog()
    rows = parallel.parsed_in_child(read_in_child, (_plan_of(read_path), None), backlog)
    counted = backlog.counted  # (known before the first row is asked for)
    return counted, len(list(rows))


def test_the_early_child_counts_the_commands_file_while_it_waits(tmp_path):
    original = tmp_path / "customers.csv"
    lines = ["E-mail;First name", *(f"c{n}@shop.test;Ann" for n in range(30)), ";", ""]
    original.write_text("\n".join(lines), encoding="utf-8")
    upload = tmp_path / "upload.csv"  # (the command's copy of it)
    upload.write_bytes(original.read_bytes())
    assert _rows_counted_by_early_child(original, upload) == (30, 30)
    # Another file than the one counted: no count (the import counts it itself).
    other = tmp_path / "other.csv"
    other.write_text("\n".join(lines[:11]), encoding="utf-8")
    assert _rows_counted_by_early_child(original, other) == (None, 10)


def test_the_file_a_command_names():
    from shopadmin import command_file
    from shopadmin.config import PROJECT_ROOT

    readme, makefile = str(PROJECT_ROOT / "README.md"), str(PROJECT_ROOT / "Makefile")
    assert command_file(["flask", "--app", "wsgi", "customers", "import", "--dry-run",
                         readme, "--user", "a@shop.test"]) == readme
    assert command_file(["flask", "customers", "import", readme, "--rejected",
                         makefile]) is None  # (two files: which is which is click's)
    assert command_file(["flask", "customers", "import", "--help"]) is None
