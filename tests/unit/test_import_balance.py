"""The search terms of new customers go to whichever of the two import processes has the
time: the writer makes them once it had to wait for the reader's next batch, and leaves them
to the reader again once batches wait in the reader's queue."""

import multiprocessing
import time

from shopadmin.imports.reading import TermsWanted
from shopadmin.parallel import started_in_child


def _batches(count: int):
    for start in range(count):
        yield [start]


def _slow_batches(count: int):
    for start in range(count):
        time.sleep(0.2)
        yield [start]


def test_the_writer_takes_the_terms_when_it_waits_and_gives_them_back_when_batches_pile_up():
    terms = TermsWanted(shared=True)
    assert terms  # the reader makes them at first
    rows = started_in_child(spawned=(_slow_batches, (3,)), backlog=terms.backlog)
    assert next(rows) == [0]  # (the child needs a while for each: none was ready)
    rows.close()
    assert terms.backlog.starved >= 1
    terms.decide(creating=True)
    assert not terms  # the writer waited: it makes the terms itself

    terms.decide(creating=True)  # no wait since, but no batches waiting either: as it was
    assert not terms

    rows = started_in_child(spawned=(_batches, (6,)), backlog=terms.backlog)
    child = multiprocessing.active_children()[0]
    child.join(timeout=30)  # all its batches are in the queue before this process takes one
    assert not child.is_alive()
    starved = terms.backlog.starved
    assert next(rows) == [0]
    assert next(rows) == [1]
    rows.close()
    assert terms.backlog.starved == starved
    assert terms.backlog.ready is None or terms.backlog.ready >= 2
    terms.decide(creating=True)
    assert terms  # batches waited for the writer: the reader makes the terms again

    terms.decide(creating=False)
    assert not terms  # a batch of updates needs none
