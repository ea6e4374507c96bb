"""One worksheet row → the customer values it sets, or the errors that keep it out.

Every message names the row as the spreadsheet shows it, the column heading, the value and
the problem, in the staff member's language.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from ..customers.fields import BY_NAME, Kind
from ..customers.models import CustomerType
from ..customers.validation import check_birth_date, normalise_email, normalise_vat_number
from ..errors import DomainError
from .cells import unneutralise
from .values import (
    parse_bool,
    parse_country,
    parse_customer_type,
    parse_datetime_or_date,
    parse_gender,
    parse_groups,
    parse_language,
    parse_title_code,
)

REQUIRED_FOR_NEW = ("first_name", "last_name", "email")
IDENTITY = ("email", "first_name", "last_name", "full_name", "customer_number")


@dataclass
class ParseOptions:
    date_order: str | None = None  # "dmy" | "mdy" | None: an ambiguous date is an error
    empty_clears: bool = False  # False: an empty cell keeps the current value


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
    # The search terms of a new customer with these values (see pipeline.parsed_rows).
    terms: str = ""
    # The row's unique keys by kind (plan.row_keys), and for each one an earlier row of the
    # file has too, that row (see pipeline.parsed_rows).
    keys: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)


def _empty(name: str) -> Any:
    kind = BY_NAME[name].kind if name in BY_NAME else Kind.TEXT
    if kind in (Kind.BOOL,):
        return False
    if kind in (Kind.DATE, Kind.COUNTRY, Kind.LANGUAGE, Kind.GENDER):
        return None
    if kind == Kind.CUSTOMER_TYPE:
        return CustomerType.PRIVATE
    return ""


_KEEP = object()  # an empty cell leaves the field as it is
_TEXT, _CONVERT, _SPECIAL, _LATER = range(4)  # how a column's text becomes a value
_SPECIAL_TARGETS = ("groups", "full_name", "title_code")
_LATER_TARGETS = ("vat_number", "birth_date")  # checks that need other columns of the row


class RowParser:
    """Parses rows for one mapping: what each column does is worked out once, here, not for
    every cell (a big import parses tens of millions)."""

    def __init__(self, headings: list[str] | None, mapping: list[str | None],
                 options: ParseOptions):
        self.headings = headings
        self.mapping = mapping
        self.options = options
        self.columns = [(index, target, *self._plan(target))
                        for index, target in enumerate(mapping) if target]

    def _plan(self, target: str) -> tuple:
        """(mode, converter, longest text, value of an empty cell) for a mapped column."""
        empty = _empty(target) if self.options.empty_clears and target in BY_NAME else _KEEP
        if target in _SPECIAL_TARGETS:
            return _SPECIAL, None, None, _KEEP if target == "groups" else empty
        if target in _LATER_TARGETS:
            return _LATER, None, None, empty
        spec = BY_NAME[target]
        date_order = self.options.date_order
        converter = {
            Kind.EMAIL: lambda text: normalise_email(text, target),
            Kind.BOOL: parse_bool,
            Kind.DATE: lambda text: parse_datetime_or_date(text, date_order),
            Kind.COUNTRY: parse_country,
            Kind.LANGUAGE: parse_language,
            Kind.GENDER: parse_gender,
            Kind.CUSTOMER_TYPE: parse_customer_type,
        }.get(spec.kind)
        return (_TEXT if converter is None else _CONVERT), converter, spec.max_length, empty

    def _heading(self, index: int) -> str:
        if self.headings and index < len(self.headings) and self.headings[index]:
            return self.headings[index]
        return _("column %(number)d", number=index + 1)

    def parse(self, row: int, cells: list[str]) -> ParsedRow:
        values: dict[str, Any] = {}
        groups: list[str] = []
        errors: list[RowError] = []
        later: list[tuple[int, str, str]] = []
        count = len(cells)
        for index, target, mode, convert, longest, empty in self.columns:
            text = cells[index].strip() if index < count else ""
            if not text:
                if empty is not _KEEP:
                    values.setdefault(target, empty)
                continue
            if text[0] == "'":
                text = unneutralise(text)
            try:
                if mode == _TEXT:
                    value: Any = text
                elif mode == _CONVERT:
                    value = convert(text)
                elif mode == _LATER:
                    later.append((index, target, text))
                    continue
                else:
                    groups += self._special(values, target, text)
                    continue
                if longest and isinstance(value, str) and len(value) > longest:
                    raise DomainError(_("Longer than the %(count)d characters this field "
                                        "holds.", count=longest))
                values[target] = value
            except DomainError as error:
                errors.append(RowError(row, self._heading(index), text, error.message))
        for index, target, text in later:
            try:
                if target == "vat_number":
                    values[target] = normalise_vat_number(text, values.get("billing_country"))
                else:
                    values[target] = check_birth_date(
                        parse_datetime_or_date(text, self.options.date_order))
            except DomainError as error:
                errors.append(RowError(row, self._heading(index), text, error.message))
        if values.get("company_name") and "customer_type" not in values:
            values["customer_type"] = CustomerType.BUSINESS
        return ParsedRow(row, values, groups, errors)

    @staticmethod
    def _special(values: dict[str, Any], target: str, text: str) -> list[str]:
        """Columns that set other fields (or none): returns the group names of the cell."""
        if target == "groups":
            return parse_groups(text)
        if target == "full_name":
            first, _sep, last = text.rpartition(" ")
            values.setdefault("first_name", first or last)
            values.setdefault("last_name", last if first else "")
        else:  # title_code
            gender = parse_title_code(text)
            if gender is not None:
                values.setdefault("gender", gender)
        return []


def missing_required(values: dict) -> list[str]:
    """The fields a new customer needs that this row leaves empty."""
    return [name for name in REQUIRED_FOR_NEW if not values.get(name)]


def combine_rows(rows: Iterable[tuple[int, list[str]]], headings: list[str] | None,
                 mapping: list[str | None]) -> Iterator[tuple[int, list[str]]]:
    """Leave out rows that only continue the customer above: Magento's single-file export adds
    each further address as a row whose customer columns are empty. Such a row is no customer
    without a name, and shopadmin keeps one billing and one shipping address."""
    identity = [i for i, target in enumerate(mapping) if target in IDENTITY]
    for number, cells in rows:
        if identity and not any(i < len(cells) and cells[i].strip() for i in identity):
            continue
        yield number, cells


__all__ = ["ParseOptions", "ParsedRow", "RowError", "RowParser", "combine_rows",
           "missing_required"]
