"""A batch of new customers made ready to insert by the reading side, so that the writing
process only runs its statements (ready_write.py).

Most batches of a big import only create customers: no row has an error, a group, or a key an
earlier row of the file had. For such a batch the reading side (imports/reading.py, in the
reading process on a big file) does the planning a new customer needs: the values a column at
a time in the INSERT's terms, the language of a customer whose row names none, the warnings
about empty names, the consent events by language. The writing process then checks the one
thing only the register can tell, that no key of the batch is a customer's already, and writes;
when one is, it plans the batch's rows as before (parsed_rows gives them back exactly as they
were read). No Flask and no database here, as in reading.py.
"""

from dataclasses import dataclass
from itertools import compress, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (rows.py is loaded by the reading side when it parses its first row)
    from .rows import ParsedRow, RowError


@dataclass(frozen=True)
class ReadyPlan:
    """What the writing process tells the reading side about making batches ready: plain
    values, handed to the reading process with its ReadingPlan."""

    defaults: dict[str, Any]  # every customer column a row may set, with its default
    match: str  # the key a row is matched on (ImportOptions.match)
    languages: dict[str, str]  # a new customer's language by country code (Planner.language_of)
    default_language: str  # ... for a country not among them, or none
    name_headings: tuple[tuple[str, str], ...]  # the name fields warned about when empty
    empty_message: str  # that warning, in the staff member's language
    rows: int  # rows at most in a batch (the pipeline's batch_rows)

    def language_of(self, country: Any) -> str:
        return self.languages.get(str(country or "").upper(), self.default_language)


class ReadyBatch:
    """New customers in the order of the file. `columns` hold one list per name of `names`
    (the values a row does not give are the column's default); `absent` names, for each
    column, the rows that did not give it, and `given_languages` the languages filled in for
    rows that gave an empty one (what they gave), so that parsed_rows can give the rows back
    as read. `warned`: (position, warnings) of the rows with warnings, as the row results keep
    them; `subscribers`: the positions of the rows that subscribe, by language."""

    __slots__ = ("rows", "cells", "names", "columns", "absent", "given_languages", "emails",
                 "numbers", "terms", "parse_warnings", "warned", "subscribers")

    def __init__(self, rows: list[int], cells: list, names: tuple[str, ...],
                 columns: list[list[Any]]):
        self.rows, self.cells, self.names, self.columns = rows, cells, names, columns
        self.absent: dict[str, set[int]] = {}
        self.given_languages: dict[int, Any] = {}
        self.emails: list[str] = []  # the rows' e-mail keys
        self.numbers: list[str | None] = []  # their customer numbers as keys (None: none)
        self.terms: list[str] = []  # their search terms ("": to be made by the writer)
        self.parse_warnings: dict[int, list[RowError]] = {}
        self.warned: list[tuple[int, list[dict[str, Any]]]] = []
        self.subscribers: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any] | None:
        return self.columns[self.names.index(name)] if name in self.names else None

    def values_of(self, position: int) -> dict[str, Any]:
        """The values of one row as the file gave them (without what was filled in)."""
        values = {name: column[position] for name, column in zip(self.names, self.columns,
                                                                  strict=True)
                  if position not in self.absent.get(name, ())}
        if position in self.given_languages:
            values["language"] = self.given_languages[position]
        return values

    def parsed_rows(self) -> list[tuple["ParsedRow", Any]]:
        """The batch's rows as read (ParsedRow, cells), for the usual planning."""
        from .rows import ParsedRow

        parsed = []
        for position, row in enumerate(self.rows):
            keys = {"email": self.emails[position]}
            if (number := self.numbers[position]) is not None:
                keys["customer_number"] = number
            parsed.append((ParsedRow(row, self.values_of(position), [],
                                     warnings=list(self.parse_warnings.get(position, ())),
                                     terms=self.terms[position], keys=keys),
                           self.cells[position]))
        return parsed


def ready_batch(plan: ReadyPlan | None, batch: list[tuple]) -> ReadyBatch | None:
    """The batch of (ParsedRow, cells) pairs made ready, when each row only creates a new
    customer as far as the file can tell; None else (and without a plan)."""
    from ..parallel import packed

    if plan is None or not batch:
        return None
    for parsed, _cells in batch:
        if (parsed.errors or parsed.duplicates or parsed.group_names
                or "email" not in parsed.keys or plan.match not in parsed.keys):
            return None
    given = [parsed.values for parsed, _cells in batch]
    # The rows by the columns they give, in the order given (the parser's: a file's rows
    # have a few such shapes), for the columns each leaves out.
    shapes: dict[tuple[str, ...], list[int]] = {}
    for position, values in enumerate(given):
        shapes.setdefault(tuple(values), []).append(position)
    names = tuple(sorted(set().union(*shapes) | {"language"}))
    defaults = plan.defaults
    if not all(name in defaults for name in names):
        return None
    # Each row's values over the defaults, taken in the order of `names` (each step in C,
    # not a dict lookup in Python for every value), and turned into columns.
    template, take = {name: defaults[name] for name in names}, itemgetter(*names)
    ready = ReadyBatch([parsed.row for parsed, _cells in batch],
                       [packed(cells) for _parsed, cells in batch], names,
                       [list(column) for column in zip(
                           *[take({**template, **values}) for values in given], strict=True)])
    for shape, positions in shapes.items():
        for name in set(names).difference(shape):
            ready.absent.setdefault(name, set()).update(positions)
    _fill_languages(plan, ready, given)
    ready.emails = [parsed.keys["email"] for parsed, _cells in batch]
    ready.numbers = [parsed.keys.get("customer_number") for parsed, _cells in batch]
    ready.terms = [parsed.terms for parsed, _cells in batch]
    _note_warnings(plan, ready, batch)
    languages = ready.columns[names.index("language")]
    for position in compress(range(len(given)), ready.column("newsletter") or ()):
        ready.subscribers.setdefault(languages[position], []).append(position)
    return ready


def _note_warnings(plan: ReadyPlan, ready: ReadyBatch, batch: list[tuple]) -> None:
    """The rows' warnings as the row results keep them: the parser's, and a new customer's
    empty names (as Planner._plan_create warns of them)."""
    firsts, lasts = ready.column("first_name"), ready.column("last_name")
    nameless = set() if not plan.name_headings else {
        position for position, (first, last) in enumerate(zip(
            firsts or repeat(""), lasts or repeat(""), strict=False)) if not (first and last)}
    for position, (parsed, _cells) in enumerate(batch):
        if not (parsed.warnings or position in nameless):
            continue
        warnings = [{"column": w.column, "value": w.value, "message": w.message}
                    for w in parsed.warnings]
        if parsed.warnings:
            ready.parse_warnings[position] = parsed.warnings
        if position in nameless:
            values = parsed.values
            warnings += [{"column": heading, "value": "", "message": plan.empty_message}
                         for name, heading in plan.name_headings if not values.get(name)]
        ready.warned.append((position, warnings))


def _fill_languages(plan: ReadyPlan, ready: ReadyBatch, given: list[dict]) -> None:
    """A row that names no language gets its country's (as Planner._plan_create gives it)."""
    languages = ready.columns[ready.names.index("language")]
    countries = ready.column("billing_country") or [None] * len(given)
    for position, language in enumerate(languages):
        if not language:
            if "language" in given[position]:
                ready.given_languages[position] = language
            languages[position] = plan.language_of(countries[position])
