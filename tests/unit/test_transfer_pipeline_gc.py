"""The import's garbage collector settings hold while any run goes on, and come back after."""

import gc

from shopadmin.imports.reading import _FewerCollections


def test_overlapping_runs_restore_the_collector_when_the_last_one_ends():
    before = gc.get_threshold()
    fewer = _FewerCollections()
    fewer.__enter__()  # an import starts
    assert gc.get_threshold() != before and gc.get_freeze_count() > 0
    fewer.__enter__()  # a second one, in another worker thread
    fewer.__exit__(None, None, None)  # the first ends: the second still runs with them
    assert gc.get_threshold() != before and gc.get_freeze_count() > 0
    fewer.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
