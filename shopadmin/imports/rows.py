"""One worksheet row → the customer values it sets, with what had to be adjusted on the way.

A row is kept out of the register only when no customer can be stored from it (its e-mail
address is not one); every other problem leaves the value out, cuts or cleans it, and becomes
a warning. Every message names the row as the spreadsheet shows it, the column heading, the
value, the problem and what was done, in the staff member's language: translation.py's (the
one spoken, as the reading process does, else Flask-Babel's). No Flask here.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..customers.choices import CustomerType
from ..customers.fields import BY_NAME, Kind
from ..customers.validation import check_birth_date, normalise_email, normalise_vat_number
from ..domain import DomainError
from ..sheets.cells import unneutralise
from ..translation import gettext as _
from ..translation import ngettext
from .headings import heading_key
from .streets import split_street
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

IDENTITY = ("email", "first_name", "last_name", "full_name", "customer_number")
# Columns whose bad value keeps the whole row out: the keys a customer is found by.
REJECTING = {"email"}
# Magento's single-file export: which address of the customer a row is.
DEFAULT_BILLING, DEFAULT_SHIPPING = "addressdefaultbilling", "addressdefaultshipping"
# Control characters and bidirectional overrides, which no customer value needs (line breaks
# and tabs stay).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass
class ParseOptions:
    date_order: str | None = None  # "dmy" | "mdy" | None: an ambiguous date is a warning
    empty_clears: bool = False  # False: an empty cell keeps the current value
    split_street: bool = False  # "Hauptstraße 12" in address 1: street and house number apart


@dataclass
class RowError:
    """A problem with a cell: a rejection when in ParsedRow.errors, else a warning."""

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
    warnings: list[RowError] = field(default_factory=list)
    # The search terms of a new customer with these values (see job_file.parsed_rows).
    terms: str = ""
    # The row's unique keys by kind (reading.row_keys), and for each one an earlier row of the
    # file has too, that row (see job_file.parsed_rows).
    keys: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)


def _empty(name: str) -> Any:
    if name == "customer_number":  # (no number: unique, so never "" for several customers)
        return None
    kind = BY_NAME[name].kind if name in BY_NAME else Kind.TEXT
    if kind in (Kind.BOOL,):
        return False
    if kind in (Kind.DATE, Kind.COUNTRY, Kind.LANGUAGE, Kind.GENDER):
        return None
    if kind == Kind.CUSTOMER_TYPE:
        return CustomerType.PRIVATE
    return ""


def left_empty(message: str) -> str:
    return _("%(problem)s The field was left empty.", problem=message)


_KEEP = object()  # an empty cell leaves the field as it is
_TEXT, _CONVERT, _SPECIAL, _LATER = range(4)  # how a column's text becomes a value
_SPECIAL_TARGETS = ("groups", "full_name", "title_code")
_LATER_TARGETS = ("vat_number", "birth_date")  # checks that need other columns of the row
# A column's converter remembers this many distinct texts it read (countries, genders, yes/no,
# languages and dates repeat across a file; e-mail addresses are left out: they are unique).
MEMO_TEXTS = 4096
_MEMOISED_KINDS = (Kind.BOOL, Kind.DATE, Kind.COUNTRY, Kind.LANGUAGE, Kind.GENDER,
                   Kind.CUSTOMER_TYPE)


def memoised(convert: Callable[[str], Any],
             limit: int = MEMO_TEXTS) -> Callable[[str], Any]:
    """convert(text), each distinct text converted once (up to `limit` of them). Only values
    are remembered: a text that raises raises again, its message in the language of the time."""
    known: dict[str, Any] = {}

    def converted(text: str) -> Any:
        value = known.get(text, _KEEP)
        if value is _KEEP:
            value = convert(text)
            if len(known) < limit:
                known[text] = value
        return value

    return converted


class RowParser:
    """Parses rows for one mapping: what each column does is worked out once, here, not for
    every cell (a big import parses tens of millions)."""

    def __init__(self, headings: list[str] | None, mapping: list[str | None],
                 options: ParseOptions):
        self.headings = headings
        self.mapping = mapping
        self.options = options
        self.width = len(headings) if headings else len(mapping)
        # (a row's cells are made this wide before its columns are read: no test of each)
        self.padded = max(self.width, len(mapping))
        self.columns = [(index, target, *self._plan(target))
                        for index, target in enumerate(mapping) if target]
        # The columns an address row of Magento's single file sets (the billing fields and
        # the company), and the two that say which of the customer's addresses it is.
        self.address_columns = [c for c in self.columns
                                if c[1].startswith("billing_") or c[1] == "company_name"]
        self.key_columns = [c for c in self.columns if c[1] in ("email", "customer_number")]
        keys = [heading_key(h) for h in headings or ()]
        self.flag_columns = {flag: keys.index(flag) for flag in (DEFAULT_BILLING,
                                                                 DEFAULT_SHIPPING)
                             if flag in keys}
        # (checked again for every row: "today" moves on during a long import)
        self.birth_date = memoised(
            lambda text: parse_datetime_or_date(text, self.options.date_order))

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
        if converter is not None and spec.kind in _MEMOISED_KINDS:
            converter = memoised(converter)
        return (_TEXT if converter is None else _CONVERT), converter, spec.max_length, empty

    def heading(self, index: int) -> str:
        if self.headings and index < len(self.headings) and self.headings[index]:
            return self.headings[index]
        return _("column %(number)d", number=index + 1)

    def parse(self, row: int, cells: list[str],
              more: list[tuple[int, list[str]]] = ()) -> ParsedRow:
        """The row's values; `more` are the rows below it that add an address (Magento)."""
        parsed = ParsedRow(row, {}, [])
        self._cells(parsed, cells, self.columns)
        if self.headings and len(cells) > self.width:
            self._extra_cells(parsed, cells)
        values = parsed.values
        if values.get("company_name") and "customer_type" not in values:
            values["customer_type"] = CustomerType.BUSINESS
        if more:
            self._addresses(parsed, cells, more)
        if self.options.split_street:
            self._split_streets(parsed)
        return parsed

    def _split_streets(self, parsed: ParsedRow) -> None:
        """Address 1 given with its house number becomes the street, the house number and its
        extension, where the file gave no house number of its own; a line it cannot split is
        kept whole in address 1, with a warning."""
        values = parsed.values
        for prefix in ("billing_", "shipping_"):
            line = values.get(prefix + "address1")
            if not isinstance(line, str) or not line or values.get(prefix + "house_number"):
                continue
            split = split_street(line)
            if split is None:
                parsed.warnings.append(RowError(parsed.row, self._heading_of(
                    prefix + "address1"), line, _(
                    "No house number found to split off; the address was kept as given in "
                    "Address 1.")))
                continue
            values[prefix + "address1"], values[prefix + "house_number"], extension = split
            if extension and not values.get(prefix + "house_number_ext"):
                values[prefix + "house_number_ext"] = extension
            elif extension:  # the file has an extension of its own: nothing is dropped
                values[prefix + "house_number"] += extension

    def _heading_of(self, target: str) -> str | None:
        index = next((c[0] for c in self.columns if c[1] == target), None)
        return None if index is None else self.heading(index)

    def key_values(self, cells: list[str]) -> dict[str, Any]:
        """Only the values a customer is found by (e-mail, customer number), as parse()
        reads them; what a resumed import needs of the rows it did before."""
        parsed = ParsedRow(0, {}, [])
        self._cells(parsed, cells, self.key_columns)
        return parsed.values

    def _cells(self, parsed: ParsedRow, cells: list[str], columns: list[tuple]) -> None:
        values, row = parsed.values, parsed.row
        later: list[tuple[int, str, str]] = []
        if len(cells) < self.padded:
            cells = [*cells, *[""] * (self.padded - len(cells))]
        # (Checked once for the row, not for each of its cells: most rows have no cell that
        # starts with an apostrophe and no control character; a row of printable characters
        # alone, the usual, has none without the regular expression.)
        joined = " ".join(cells)
        careful = "'" in joined or (not joined.isprintable()
                                    and _CONTROL.search(joined) is not None)
        for index, target, mode, convert, longest, empty in columns:
            text = cells[index].strip()
            if not text:
                if empty is not _KEEP:
                    values.setdefault(target, empty)
                continue
            if careful:
                cleaned = self._cleaned(parsed, index, text)
                if cleaned is None:
                    continue
                text = cleaned
            if mode == _TEXT:
                if longest and len(text) > longest:
                    text = self._too_long(parsed, index, target, text, longest)
                    if text is None:
                        continue
                values[target] = text
                continue
            try:
                if mode == _CONVERT:
                    value: Any = convert(text)
                elif mode == _LATER:
                    later.append((index, target, text))
                    continue
                else:
                    parsed.group_names += self._special(values, target, text)
                    continue
                if longest and isinstance(value, str) and len(value) > longest:
                    value = self._too_long(parsed, index, target, value, longest)
                    if value is None:
                        continue
                values[target] = value
            except DomainError as error:
                problem = RowError(row, self.heading(index), text, error.message)
                if target in REJECTING:
                    parsed.errors.append(problem)
                elif target == "language":
                    problem.message = _("%(problem)s The customer gets the language for "
                                        "customers without one.", problem=error.message)
                    parsed.warnings.append(problem)
                else:
                    problem.message = left_empty(error.message)
                    parsed.warnings.append(problem)
        for index, target, text in later:
            self._later(parsed, index, target, text)

    def _cleaned(self, parsed: ParsedRow, index: int, text: str) -> str | None:
        """A cell's text without the formula guard and without control characters (named in
        a warning); None when nothing but control characters was left."""
        if text[0] == "'":
            text = unneutralise(text)
        if not text.isprintable() and _CONTROL.search(text):
            cleaned = _CONTROL.sub("", text).strip()
            parsed.warnings.append(RowError(parsed.row, self.heading(index), text, _(
                "Control characters (such as NUL or a text direction override) were "
                "removed.")))
            return cleaned or None
        return text

    def _too_long(self, parsed: ParsedRow, index: int, target: str, value: str,
                  longest: int) -> str | None:
        """A customer number that long is left out (a cut one could be another customer's);
        any other text is cut to what its field holds."""
        if target == "customer_number":
            message = left_empty(_("Longer than the %(count)d characters this field holds.",
                                   count=longest))
            parsed.warnings.append(RowError(parsed.row, self.heading(index), value, message))
            return None
        parsed.warnings.append(RowError(parsed.row, self.heading(index), value, _(
            "Longer than the %(count)d characters this field holds: the first %(count)d were "
            "imported.", count=longest)))
        return value[:longest]

    def _later(self, parsed: ParsedRow, index: int, target: str, text: str) -> None:
        values = parsed.values
        try:
            if target == "vat_number":
                values[target] = normalise_vat_number(text, values.get("billing_country"))
            else:
                values[target] = check_birth_date(self.birth_date(text))
        except DomainError as error:
            problem = RowError(parsed.row, self.heading(index), text, left_empty(error.message))
            if target == "vat_number":  # kept as typed, for staff to check
                values[target] = text[:BY_NAME[target].max_length]
                problem.message = _("%(problem)s It was imported as typed; check it.",
                                    problem=error.message)
            parsed.warnings.append(problem)

    def _extra_cells(self, parsed: ParsedRow, cells: list[str]) -> None:
        extra = [cell.strip() for cell in cells[self.width:]]
        filled = [cell for cell in extra if cell]
        if not filled:
            return
        parsed.warnings.append(RowError(parsed.row, None, " | ".join(filled), ngettext(
            "This row has %(num)d more cell than the file has headings (from column "
            "%(column)d on); it was not imported.",
            "This row has %(num)d more cells than the file has headings (from column "
            "%(column)d on); they were not imported.", len(extra), column=self.width + 1)))

    def _addresses(self, parsed: ParsedRow, cells: list[str],
                   more: list[tuple[int, list[str]]]) -> None:
        """Magento's further address rows: the one marked default billing becomes the billing
        address, the one marked default shipping the shipping address; any other is named in
        a warning, never dropped without a word."""
        values = parsed.values
        main = {n: values.pop(n) for n in list(values) if n.startswith("billing_")}
        addresses = [(parsed.row, self._flags(cells), main)]
        for row, extra in more:
            address = ParsedRow(row, {}, [])
            self._cells(address, extra, self.address_columns)
            parsed.warnings += address.warnings
            if company := address.values.pop("company_name", None):
                address.values["billing_company"] = company
            addresses.append((row, self._flags(extra), address.values))
        billing = next((a for a in addresses if a[1][0]), addresses[0])
        shipping = next((a for a in addresses if a[1][1]), None)
        values.update((n, v) for n, v in billing[2].items() if n != "billing_company")
        if shipping is not None and shipping is not billing:
            values["shipping_differs"] = True
            for name, value in shipping[2].items():
                target = "shipping_company" if name == "billing_company" else \
                    "shipping_" + name.removeprefix("billing_")
                values[target] = value
        for row, _flags, address in (a for a in addresses
                                     if a[2] and a is not billing and a is not shipping):
            parsed.warnings.append(RowError(parsed.row, None, ", ".join(
                str(v) for v in address.values() if v), _(
                "Row %(row)d adds a further address for this customer that is neither "
                "the default billing nor the default shipping address; it was not "
                "imported.", row=row)))

    def _flags(self, cells: list[str]) -> tuple[bool, bool]:
        """(default billing, default shipping) of an address row, from Magento's 0/1 flags."""
        def flag(name: str) -> bool:
            index = self.flag_columns.get(name)
            return index is not None and index < len(cells) and cells[index].strip() == "1"

        return flag(DEFAULT_BILLING), flag(DEFAULT_SHIPPING)

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


def combine_rows(rows: Iterable[tuple[int, list[str]]], headings: list[str] | None,
                 mapping: list[str | None]) -> Iterator[tuple[int, list[str], list]]:
    """(row, cells, further address rows) for each customer of the file. Magento's
    single-file export adds each further address of a customer as a row below it whose
    customer columns are empty: such a row is no customer without a name, but part of the
    customer above."""
    identity = [i for i, target in enumerate(mapping) if target in IDENTITY]
    first = identity[0] if identity else 0
    current = None
    for number, cells in rows:
        # (the first identity column filled, as in most rows, says enough)
        if current is not None and identity and not (
                first < len(cells) and cells[first].strip()) and not any(
                i < len(cells) and cells[i].strip() for i in identity):
            current[2].append((number, cells))
            continue
        if current is not None:
            yield current
        current = (number, cells, [])
    if current is not None:
        yield current


__all__ = ["ParseOptions", "ParsedRow", "RowError", "RowParser", "combine_rows"]
