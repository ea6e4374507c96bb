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
