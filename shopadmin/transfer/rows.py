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


def _empty(name: str) -> Any:
    kind = BY_NAME[name].kind if name in BY_NAME else Kind.TEXT
    if kind in (Kind.BOOL,):
        return False
    if kind in (Kind.DATE, Kind.COUNTRY, Kind.LANGUAGE, Kind.GENDER):
        return None
    if kind == Kind.CUSTOMER_TYPE:
        return CustomerType.PRIVATE
    return ""


class RowParser:
    def __init__(self, headings: list[str] | None, mapping: list[str | None],
                 options: ParseOptions):
        self.headings = headings
        self.mapping = mapping
        self.options = options

    def _heading(self, index: int) -> str:
        if self.headings and index < len(self.headings) and self.headings[index]:
            return self.headings[index]
        return _("column %(number)d", number=index + 1)

    def parse(self, row: int, cells: list[str]) -> ParsedRow:
        values: dict[str, Any] = {}
        groups: list[str] = []
        errors: list[RowError] = []
        later: list[tuple[int, str, str]] = []  # checks that need other columns of the row
        for index, target in enumerate(self.mapping):
            if not target:
                continue
            text = unneutralise(cells[index].strip()) if index < len(cells) else ""
            if target == "groups":
                groups += parse_groups(text)
                continue
            if not text:
                if self.options.empty_clears and target in BY_NAME:
                    values.setdefault(target, _empty(target))
                continue
            if target in ("vat_number", "birth_date"):
                later.append((index, target, text))
                continue
            try:
                self._set(values, target, text)
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

    def _set(self, values: dict[str, Any], target: str, text: str) -> None:
        if target == "full_name":
            first, _sep, last = text.rpartition(" ")
            values.setdefault("first_name", first or last)
            values.setdefault("last_name", last if first else "")
            return
        if target == "title_code":
            gender = parse_title_code(text)
            if gender is not None:
                values.setdefault("gender", gender)
            return
        spec = BY_NAME[target]
        match spec.kind:
            case Kind.EMAIL:
                value: Any = normalise_email(text, target)
            case Kind.BOOL:
                value = parse_bool(text)
            case Kind.DATE:
                value = parse_datetime_or_date(text, self.options.date_order)
            case Kind.COUNTRY:
                value = parse_country(text)
            case Kind.LANGUAGE:
                value = parse_language(text)
            case Kind.GENDER:
                value = parse_gender(text)
            case Kind.CUSTOMER_TYPE:
                value = parse_customer_type(text)
            case _:
                value = text
        if isinstance(value, str) and spec.max_length and len(value) > spec.max_length:
            raise DomainError(_("Longer than the %(count)d characters this field holds.",
                                count=spec.max_length))
        values[target] = value


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
