"""Read and parse a big file in a second process while this one plans and writes.

Reading and parsing a row is pure Python work; planning and writing it is the database's and
ours. On a machine with two cores the two halves overlap: a child process runs the reader,
the combiner, the row parser, the search terms and the duplicate check (imports/reading.py),
and hands over batches of (ParsedRow, cells) through a bounded queue, so memory stays flat.
The import's child is spawned, not forked (the job worker runs threads, and forking a threaded
process can deadlock): it gets what it needs as arguments, the staff member's language among
them (messages come out in it), loads no Flask, touches no database, and ends when the file
does, or when this process goes away. demo-data, a command of its own, forks its child.
"""

import contextlib
import fcntl
import functools
import multiprocessing
import os
import queue
import sys
from collections.abc import Callable, Generator, Iterator
from typing import Any, NamedTuple

BATCH = 1000
QUEUE_BATCHES = 8
_END = "end"
_ERROR = "error"
# A child's word on the rows of its file before its first batch (counted_item): how many
# there are, counted by an early child while it waited for its work (None: not counted).
_COUNTED = "counted"
# Cells travel as one string (one object to pickle instead of 25); split again only for rows
# that end up rejected.
SEPARATOR = "\x1f"
PIPE_SIZE_SETTER = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1 << 20


class Parsed(NamedTuple):
    """A ParsedRow as it arrives from the child: the same attributes, cheaper to pickle; and
    the row's cells as they were handed over (cells_of gives them as a list)."""

    row: int
    values: dict
    group_names: list
    errors: list
    warnings: list
    terms: str
    keys: dict
    duplicates: dict
    cells: str | list


# A handed-over row's tuple made a Parsed as it is (Parsed(*row) unpacks it into arguments
# and checks them: twice the time, in the writing process, for every row of the file).
_parsed = functools.partial(tuple.__new__, Parsed)


def packed(cells: list[str]) -> str | list[str]:
    """A row's cells as they travel (cells_of gives them back as a list)."""
    joined = SEPARATOR.join(cells)
    if joined.count(SEPARATOR) != len(cells) - 1:
        return list(cells)  # a cell holds the separator itself: send the list
    return joined


def _compact(parsed, cells: list[str]) -> tuple:
    return (parsed.row, parsed.values, parsed.group_names, parsed.errors, parsed.warnings,
            parsed.terms, parsed.keys, parsed.duplicates, packed(cells))


def cells_of(cells) -> list[str]:
    return cells.split(SEPARATOR) if isinstance(cells, str) else list(cells)


def _produce(produce: Callable[[], Iterator], batches: multiprocessing.Queue,
             parent: int) -> None:
    """The child: put every item of produce() into the queue; give up if the parent dies."""

    def put(item) -> bool:
        while True:
            try:
                batches.put(item, timeout=1)
                return True
            except queue.Full:
                if os.getppid() != parent:
                    return False

    try:
        for item in produce():
            if not put(item):
                return
        put(_END)
    except Exception as error:  # noqa: BLE001  (sent to the parent, which raises it)
        put((_ERROR, getattr(error, "message", None) or str(error) or type(error).__name__))
    finally:
        batches.close()
        if os.getppid() != parent:  # (no one reads the pipe now: what it cannot take is
            batches.cancel_join_thread()  # dropped, instead of waited on for ever)
        batches.join_thread()


def _widen(batches: multiprocessing.Queue) -> None:
    """Let the pipe under the queue hold a whole batch (1 MB, Linux's usual most, instead of
    64 KB): the child then hands over a batch in one write, and this process reads it without
    waiting for the child to be scheduled a dozen times."""
    # On another system or with a lower limit the default pipe works, only slower.
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(batches._writer.fileno(), PIPE_SIZE_SETTER, PIPE_BYTES)


class Backlog:
    """What this process saw of the child's queue as it took each batch: how many batches
    were ready (None where the system cannot tell), and how often none was (this process
    then waits for the child: the child is the slower half)."""

    def __init__(self):
        self.ready: int | None = None
        self.starved = 0
        # The rows of the file, when the child said (counted_item) before its first batch.
        self.counted: int | None = None

    def taking(self, batches: multiprocessing.Queue) -> None:
        try:
            self.ready = batches.qsize()
        except NotImplementedError:  # (macOS)
            self.ready = None
            return
        if self.ready == 0:
            self.starved += 1


class ParseFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _produce_spawned(spawned: tuple, batches: multiprocessing.Queue, parent: int) -> None:
    factory, args = spawned
    _produce(lambda: factory(*args), batches, parent)


def produced_in_child(produce: Callable[[], Iterator] | None = None, *,
                      spawned: tuple | None = None) -> Iterator:
    """The items of produce() (each picklable; best a batch of work), made by a forked child
    process while this one goes on with them. A process that runs threads (the job worker)
    must not fork: it gives `spawned=(factory, args)` instead, a module-level function and
    picklable arguments, and a fresh interpreter makes the items of factory(*args). The child
    starts with the first item asked for (started_in_child starts it at once)."""
    yield from started_in_child(produce, spawned=spawned)


def started_in_child(produce: Callable[[], Iterator] | None = None, *,
                     spawned: tuple | None = None,
                     backlog: Backlog | None = None) -> Generator[Any, None, None]:
    """produced_in_child, with the child started now, so that it starts up while this process
    does something else first. Closing the iterator (or dropping it) ends the child.
    `backlog` is kept up to date as the batches are taken."""
    items = _child_items(produce, spawned, backlog)
    next(items)  # the child is started; from here on, closing the items ends it
    return items


@contextlib.contextmanager
def _main_script_left_out(spawned: tuple | None):
    """A spawned child first runs the parent's main script again (as __mp_main__), for what
    was defined there; for the `flask` command that script loads flask.cli, so Flask, Werkzeug
    and click (0.1-0.15 s CPU, before the child's first row). A factory from a module of its
    own needs nothing of the script: while such a child starts, the script is not named."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if (main is None or spawned is None or path is None
            or getattr(main, "__spec__", None) is not None
            or spawned[0].__module__ == "__main__"):
        yield
        return
    del main.__file__  # (what multiprocessing reads as the script to run again)
    try:
        yield
    finally:
        main.__file__ = path


def counted_item(rows: int | None) -> tuple:
    """What a child's factory yields first to say how many rows its file has (see
    reading.read_in_child): taken out of the items, into the Backlog's `counted`."""
    return (_COUNTED, rows)


def _child_items(produce: Callable[[], Iterator] | None, spawned: tuple | None,
                 backlog: Backlog | None = None) -> Generator[Any, None, None]:
    early = _take_early(spawned)
    if early is not None:
        child, batches = early.child, early.batches
    else:
        context = multiprocessing.get_context("spawn" if spawned else "fork")
        batches = context.Queue(maxsize=QUEUE_BATCHES)
        _widen(batches)
        target, args = (_produce_spawned, spawned) if spawned else (_produce, produce)
        child = context.Process(target=target, args=(args, batches, os.getpid()), daemon=True)
        with _main_script_left_out(spawned):
            child.start()
    try:
        # An early child was ready for its work: its first word (its file's count) comes at
        # once, and is read now, before the caller counts the rows itself.
        first = (_next_item(child, batches, backlog, first=True) if early is not None
                 else _NOTHING)
        yield None  # (started_in_child takes this one)
        if first is not _NOTHING:
            if first is _DONE:
                return
            yield first
        while (item := _next_item(child, batches, backlog)) is not _DONE:
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        batches.close()
        batches.cancel_join_thread()


_DONE, _NOTHING = object(), object()


def _next_item(child, batches: multiprocessing.Queue, backlog: Backlog | None,
               first: bool = False) -> Any:
    """The child's next item (_DONE at its end), its count taken out (counted_item); `first`:
    the one item the child sends first, _NOTHING when that was its count."""
    while True:
        if backlog is not None and not first:  # (the count comes before any batch is ready)
            backlog.taking(batches)
        try:
            item = batches.get(timeout=5)
        except queue.Empty:
            if not child.is_alive():
                raise ParseFailed(f"the reading process ended ({child.exitcode})") from None
            continue
        if isinstance(item, str) and item == _END:
            return _DONE
        if isinstance(item, tuple) and item and item[0] == _ERROR:
            raise ParseFailed(item[1])
        if isinstance(item, tuple) and item and item[0] == _COUNTED:
            if backlog is not None:
                backlog.counted = item[1]
            if first:
                return _NOTHING
            continue
        return item


class _Early(NamedTuple):
    """A spawned child started before its work is known (start_early)."""

    module: str
    child: Any  # the process
    batches: multiprocessing.Queue
    orders: Any  # the pipe's end on which this process sends (factory, args)
    shared: Any  # a byte of shared memory, the child's from its start


_early: list[_Early] = []


class _Shared:
    """What stands in an early child's arguments for its byte of shared memory."""


def start_early(prepare: Callable[..., None], *args: Any) -> None:
    """Spawn a child now that runs prepare(*args) (a module-level function with no Flask, like
    imports/reading.prepare_reading: the imports and tables the work needs; its arguments
    picklable) and then waits for
    its work: the first started_in_child with a factory of prepare's module takes it, and gets
    its first items without waiting for an interpreter's start, the imports and the tables
    (0.3-0.45 s for the import's reading process), which were made beside whatever this
    process did meanwhile. One byte of shared memory goes with it (early_shared: given at a
    spawn only, as such memory must be). A child nobody takes ends with this process
    (daemonic, and it gives up when its parent is gone)."""
    context = multiprocessing.get_context("spawn")
    batches = context.Queue(maxsize=QUEUE_BATCHES)
    _widen(batches)
    receiving, orders = context.Pipe(duplex=False)
    shared = context.Value("b", 1, lock=False)
    child = context.Process(target=_produce_when_told,
                            args=((prepare, args), receiving, shared, batches, os.getpid()),
                            daemon=True)
    with _main_script_left_out((prepare, ())):
        child.start()
    receiving.close()
    _early.append(_Early(prepare.__module__, child, batches, orders, shared))


def early_shared(module: str) -> Any:
    """The byte of shared memory of the early child waiting for work from `module`, if there
    is one (None else): a factory's arguments may hold it (and no other shared memory)."""
    for early in _early:
        if early.module == module and early.child.is_alive():
            return early.shared
    return None


def _take_early(spawned: tuple | None) -> _Early | None:
    """The early child waiting for the factory's module, given its work (None: no such)."""
    if spawned is None:
        return None
    factory, args = spawned
    for early in list(_early):
        if early.module != factory.__module__:
            continue
        _early.remove(early)
        if not early.child.is_alive():
            continue
        try:
            early.orders.send((factory, tuple(_Shared() if arg is early.shared else arg
                                              for arg in args)))
        except (OSError, ValueError):  # (it died meanwhile; a child of its own is spawned)
            early.child.terminate()
            continue
        finally:
            early.orders.close()
        return early
    return None


def _produce_when_told(preparing: tuple, orders, shared,
                       batches: multiprocessing.Queue, parent: int) -> None:
    """An early child: prepare, then wait for (factory, args) and produce."""
    prepare, prepare_args = preparing
    prepare(*prepare_args)
    while not orders.poll(1):
        if os.getppid() != parent:
            return
    try:
        factory, args = orders.recv()
    except EOFError:  # (its parent closed the pipe without work: nothing to do)
        return
    finally:
        orders.close()
    args = tuple(shared if isinstance(arg, _Shared) else arg for arg in args)
    _produce(lambda: factory(*args), batches, parent)


def batched(rows: Iterator[Any]) -> Iterator[Any]:
    """(ParsedRow, cells) pairs as the batches a reading child hands over; any other item
    (a batch made ready to write: imports/ready.py) goes as it is, in its place."""
    batch: list[tuple] = []
    for item in rows:
        if type(item) is not tuple:
            if batch:
                yield batch
                batch = []
            yield item
            continue
        batch.append(_compact(*item))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def parsed_in_child(factory: Callable[..., Iterator[Any]], args: tuple,
                    backlog: Backlog | None = None) -> Generator[tuple, None, None]:
    """The rows factory(*args) hands over in batches (see batched), read and parsed by a
    spawned child process (the job worker runs threads, and a threaded process must not fork),
    which starts now: it imports and opens the file while this process does what comes first.
    `backlog`: see started_in_child."""
    rows = _unpacked(started_in_child(spawned=(factory, args), backlog=backlog))
    next(rows)  # started: closing the rows now ends the child
    return rows


def rows_of(batch: list[tuple]) -> list[tuple[Parsed, Any]]:
    """The (Parsed, cells) pairs of a batch as a reading child hands it over (see batched):
    the one place that reads the batch format."""
    return [(parsed, parsed.cells) for parsed in map(_parsed, batch)]


def _unpacked(items: Generator[list, None, None]) -> Generator[Any, None, None]:
    with contextlib.closing(items):
        yield None  # (parsed_in_child takes this one)
        for item in items:
            if type(item) is list:
                yield from rows_of(item)
            else:  # (a batch made ready: imports/ready.py)
                yield item
