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
