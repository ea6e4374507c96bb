"""Stand-in (tests only, see __init__): the minimal contract of transfer-map's rows.py."""
from dataclasses import dataclass, field
from typing import Any

from shopadmin.customers.fields import BY_NAME, Kind
from shopadmin.customers.validation import normalise_email
from shopadmin.errors import DomainError
from shopadmin.transfer.cells import unneutralise


@dataclass
class ParseOptions:
    date_order: str | None = None
    empty_clears: bool = False


@dataclass
class RowError:
    row: int
    column: str | None
    value: str
    message: str


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any]
    group_names: list[str]
    errors: list[RowError] = field(default_factory=list)


class RowParser:
    def __init__(self, headings, mapping, options):
        self.headings, self.mapping, self.options = headings, mapping, options

    def parse(self, row, cells):
        values, groups, errors = {}, [], []
        for i, target in enumerate(self.mapping):
            if not target:
                continue
            text = unneutralise(cells[i].strip()) if i < len(cells) else ""
            heading = self.headings[i] if self.headings else None
            if target == "groups":
                groups += [g.strip() for g in text.split(",") if g.strip()]
                continue
            if not text and not self.options.empty_clears:
                continue
            kind = BY_NAME[target].kind
            try:
                if kind == Kind.EMAIL:
                    values[target] = normalise_email(text)
                elif kind == Kind.BOOL:
                    values[target] = text.lower() in ("1", "yes", "tak", "true", "x")
                elif kind == Kind.DATE:
                    values[target] = self._date(text)
                else:
                    values[target] = text
            except DomainError as error:
                errors.append(RowError(row, heading, text, error.message))
        return ParsedRow(row, values, groups, errors)


def _date_parser(self, text):
    from datetime import date

    if "/" not in text:
        return date.fromisoformat(text)
    first, second, year = (int(part) for part in text.split("/"))
    if first <= 12 and second <= 12 and first != second and not self.options.date_order:
        raise DomainError("ambiguous date", None)
    if self.options.date_order == "mdy" or second > 12:
        first, second = second, first
    return date(year, second, first)


RowParser._date = _date_parser


def missing_required(values):
    return [n for n in ("first_name", "last_name", "email") if not values.get(n)]


def combine_rows(rows, headings, mapping):
    return iter(rows)
