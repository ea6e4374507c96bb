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
                    from datetime import date
                    values[target] = date.fromisoformat(text)
                else:
                    values[target] = text
            except DomainError as error:
                errors.append(RowError(row, heading, text, error.message))
        return ParsedRow(row, values, groups, errors)


def missing_required(values):
    return [n for n in ("first_name", "last_name", "email") if not values.get(n)]


def combine_rows(rows, headings, mapping):
    return iter(rows)
