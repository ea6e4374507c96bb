"""The import's reading half: read, combine, parse, the search terms and the duplicate keys of
every row, worked out from the file alone. No Flask and no database in here or in what it
imports: on a big file this runs in a spawned process of its own (read_in_child), which then
starts in a fifth of the time (bench/reading_child.py; tests/unit/test_import_stages.py
checks that it stays so). pipeline.py chains it with the writing half.
"""

import contextlib
import gc
import hashlib
import multiprocessing
import threading
import types
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import email_validator

from ..customers.terms import terms_text
from ..text import email_key
from ..translation import speaking
from .ready import ReadyPlan, ready_batch
from .seen import SeenKeys

SEEN_BATCH = 1000  # rows whose keys are looked up together
# Batches ready in the reading process's queue from which the writer leaves it the search
# terms (TermsWanted.decide).
BALANCED_BACKLOG = 2
_TERMS, _READY = 1, 2  # the bits of TermsWanted's byte


class TermsWanted:
    """Whether the reading process works out each row's search terms: worth it while the rows
    create customers and the writing process is the busier one, wasted on a file of updates.
    The writer says so after every batch (shared memory, seen by the reading child); rows that
    come without terms and do create a customer get them in the writing process. With a
    second process, the batches waiting in its queue say which process is the slower
    (`backlog`): when the writer had to wait for one, the reader is, and the writer makes the
    terms itself; when batches pile up, the reader makes them. The work goes to whichever
    process has the time, whatever the machine and whatever the file.

    The same byte says whether the reading side makes batches ready to write (ready.py; the
    writer's `want_ready`): not once the register showed that the file's rows are customers
    already (a file of updates), until a batch meets none again."""

    def __init__(self, shared: bool = False, flag=None):
        from ..parallel import Backlog, early_shared

        if flag is None:  # (the writer's; the reading process is given it)
            if shared:  # (the early reading process's, when it is waiting)
                flag = early_shared(__name__) or multiprocessing.get_context("spawn").Value(
                    "b", 1, lock=False)
            else:
                flag = types.SimpleNamespace(value=1)
            flag.value = _TERMS | _READY
        self.flag = flag
        self.backlog = Backlog()
        self.starved = 0  # backlog.starved at the last decision

    def __bool__(self) -> bool:
        return bool(self.flag.value & _TERMS)

    def set(self, wanted: bool) -> None:
        self.flag.value = (self.flag.value & ~_TERMS) | (_TERMS if wanted else 0)

    @property
    def ready(self) -> bool:
        return bool(self.flag.value & _READY)

    def want_ready(self, wanted: bool) -> None:
        self.flag.value = (self.flag.value & ~_READY) | (_READY if wanted else 0)

    def decide(self, creating: bool) -> None:
        """After a written batch: terms wanted from the reader when the batch created
        customers, unless the writer has waited for the reader since the last decision;
        back to the reader once batches wait in the queue again."""
        starved, self.starved = self.backlog.starved - self.starved, self.backlog.starved
        if not creating or starved:
            self.set(False)
        elif self.backlog.ready is None or self.backlog.ready >= BALANCED_BACKLOG:
            self.set(True)


@dataclass(frozen=True)
class ReadingPlan:
    """What reading and parsing a file takes, plain enough to hand to another process."""

    path: str
    has_headings: bool
    encoding: str | None
    delimiter: str | None
    mapping: list
    date_order: str | None
    empty_clears: bool
    skip: int
    language: str  # the staff member's: the language of the rows' messages
    # email-validator's switch for the reserved .test domain, as this process has it
    test_domains: bool = False
    split_street: bool = False
    keep_spool: bool = True  # (readers.open_worksheet)
    # Batches that only create customers are made ready to write (see ready.py); None: not.
    ready: ReadyPlan | None = None


class _FewerCollections:
    """Python's cyclic garbage collector walks every live object each 700 allocations, and an
    import allocates millions that live for one batch: while any run goes on in this process
    (the worker runs jobs in threads), the objects from before it are frozen out of the walks,
    and the collector runs less often (cycles are still collected)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs = 0
        self.thresholds = gc.get_threshold()

    def __enter__(self):
        with self.lock:
            if self.runs == 0:
                self.thresholds = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(50_000, 20, 100)
            self.runs += 1

    def __exit__(self, *_exc):
        with self.lock:
            self.runs -= 1
            if self.runs == 0:
                gc.set_threshold(*self.thresholds)
                gc.unfreeze()


fewer_collections = _FewerCollections()


def read_in_child(plan: ReadingPlan, flag) -> Iterator[list | tuple]:
    """The reading process: the rows, their messages in the staff member's language (no app:
    the stages need none). `flask customers import` starts it early (start_reading_early)."""
    from ..parallel import batched, counted_item

    email_validator.TEST_ENVIRONMENT = plan.test_domains
    terms = TermsWanted(flag=flag) if flag is not None else None
    yield counted_item(_counted_before(plan))
    # (fewer garbage collections, as in the writing process: a sixth of this one's time)
    with speaking(plan.language), fewer_collections:
        yield from batched(read_rows(plan, terms))


def start_reading_early(path: str | None = None) -> None:
    """Start the reading process now, before its file and plan are known: it loads the
    stages and their tables (prepare_reading) beside this process's start, and waits (see
    parallel.start_early). The import of a big file takes it up; else it ends unused.
    `path`: the file the command names, whose rows it counts meanwhile."""
    from ..parallel import start_early

    start_early(prepare_reading, path)


class _Counted(NamedTuple):
    """A file's data rows as an import counts them (job_file.count_rows), counted by the
    early reading process while it waited for its plan, and what they were counted as."""

    digest: bytes
    encoding: str | None
    delimiter: str | None
    has_headings: bool
    rows: int


_counted: list[_Counted] = []


def prepare_reading(path: str | None = None) -> None:
    """What the stages load at their first row, loaded beforehand: the reader and the parser,
    and the tables of country and language names (Babel's locale data: 0.06-0.07 s); and
    with `path`, that file's rows counted, as the import will read it (the command's process
    would count them after its start: 0.2 s for 100,000 CSV rows). What cannot be read here
    is left for the import to report."""
    from ..sheets import readers
    from . import rows  # noqa: F401
    from .values import _countries, _languages

    _countries()
    _languages()
    if path is None:
        return
    with contextlib.suppress(Exception):
        sheet = readers.open_worksheet(Path(path))
        has_headings = bool(sheet.headings)
        counted = readers.open_worksheet(
            Path(path), has_headings=has_headings, encoding=sheet.encoding,
            delimiter=sheet.delimiter).count_rows()
        _counted.append(_Counted(_digest(path), sheet.encoding, sheet.delimiter,
                                 has_headings, counted))


def _digest(path: str) -> bytes:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "blake2b").digest()


def _counted_before(plan: ReadingPlan) -> int | None:
    """The rows of the plan's file, when this process counted them before it came (the same
    bytes, read as the plan reads them: the upload is a copy of the file counted)."""
    for counted in _counted:
        if (counted.encoding, counted.delimiter, counted.has_headings) == (
                plan.encoding, plan.delimiter, plan.has_headings) \
                and counted.digest == _digest(plan.path):
            return counted.rows
    return None


def row_keys(values: dict[str, Any]) -> dict[str, str]:
    """The keys under which a row's customer is unique: {"email": e-mail key,
    "customer_number": number}, for those the row gives."""
    keys = {}
    if email := values.get("email"):
        keys["email"] = email_key(email)
    if (number := values.get("customer_number")) and (number := str(number).strip()):
        keys["customer_number"] = number
    return keys


def read_rows(plan: ReadingPlan, terms: TermsWanted | None) -> Generator[Any, None, None]:
    """Whatever depends only on the file, which on a big file is worked out by the reading
    process beside the writing one: the rows parsed, the search terms a new customer will
    have, and for each key of a row, the earlier row that had it (a duplicate). With
    plan.ready, a batch whose rows only create customers comes as one ReadyBatch instead."""
    from ..sheets.readers import open_worksheet
    from .rows import ParseOptions, RowParser, combine_rows

    worksheet = open_worksheet(Path(plan.path), has_headings=plan.has_headings,
                               encoding=plan.encoding, delimiter=plan.delimiter, spool=True,
                               keep_spool=plan.keep_spool)
    parser = RowParser(worksheet.headings, plan.mapping,
                       ParseOptions(date_order=plan.date_order, empty_clears=plan.empty_clears,
                                    split_street=plan.split_street))
    seen = SeenKeys()
    together = min(SEEN_BATCH, plan.ready.rows) if plan.ready is not None else SEEN_BATCH
    try:
        batch = []
        for position, (row, cells, more) in enumerate(combine_rows(
                worksheet.rows(), worksheet.headings, plan.mapping)):
            if position < plan.skip:  # done before: only its keys, for the duplicates after
                seen.first_rows([(kind, key, row) for kind, key in
                                 row_keys(parser.key_values(cells)).items()])
                continue
            parsed = parser.parse(row, cells, more)
            if worksheet.notes:
                note_cells(parser, worksheet, parsed)
            parsed.keys = row_keys(parsed.values)
            if terms and not parsed.errors:
                parsed.terms = terms_text(parsed.values)
            batch.append((parsed, cells))
            if len(batch) >= together:
                yield from _with_duplicates(seen, batch, _ready(plan, terms))
                batch = []
        yield from _with_duplicates(seen, batch, _ready(plan, terms))
    finally:
        seen.close()


def _ready(plan: ReadingPlan, terms: TermsWanted | None) -> ReadyPlan | None:
    """The plan's ReadyPlan while the writer wants batches made ready."""
    return plan.ready if terms is None or terms.ready else None


def note_cells(parser, worksheet, parsed) -> None:
    """What the reader found in the row's cells (a formula without a stored value), as
    warnings of the row."""
    from .rows import RowError

    for column, message in worksheet.notes.pop(parsed.row, ()):
        parsed.warnings.append(RowError(parsed.row, parser.heading(column), "", message))


def _with_duplicates(seen: SeenKeys, batch: list[tuple],
                     ready: ReadyPlan | None = None) -> Iterator[Any]:
    earlier = seen.first_rows([(kind, key, parsed.row) for parsed, _cells in batch
                               for kind, key in parsed.keys.items()])
    if earlier:
        for parsed, _cells in batch:
            parsed.duplicates = {kind: first for kind, key in parsed.keys.items()
                                 if (first := earlier.get((kind, key), parsed.row)) != parsed.row}
    made = ready_batch(ready, batch)
    if made is not None:
        yield made
    else:
        yield from batch
