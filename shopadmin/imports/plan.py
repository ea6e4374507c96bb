"""Plan a batch of parsed rows against the register: create, update, unchanged or reject.

Pure reading: nothing here writes. The preview runs exactly this, and the apply writes what it
returns, so the dry run and the real run cannot disagree. No Flask here: it is given the
session it reads the register through, the store settings, and the erased addresses with the
secret their digests are keyed with; it writes its messages in translation.py's language (the
one spoken, else Flask-Babel's).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import or_, select

from ..batching import batched
from ..bulk import among_parameter, among_values
from ..customers.choices import CustomerType, Gender
from ..customers.fields import BY_NAME, REQUIRED_NAMES, Kind
from ..customers.forget import address_digest
from ..customers.models import Customer
from ..customers.numbers import AnySession
from ..database import json_value
from ..i18n import country_language
from ..text import fold
from ..translation import gettext as _

CREATE_UPDATE, CREATE_ONLY, UPDATE_ONLY = "create_update", "create_only", "update_only"
MODES = (CREATE_UPDATE, CREATE_ONLY, UPDATE_ONLY)
MATCHES = ("email", "customer_number")
CUSTOMERS = Customer.__table__
# Customer columns an import may write: the editable fields of the one field table.
WRITABLE = tuple(f.name for f in BY_NAME.values() if f.editable and f.kind != Kind.GROUPS)
_ENUMS = {Kind.GENDER: Gender, Kind.CUSTOMER_TYPE: CustomerType}
_FIRST, _LAST = REQUIRED_NAMES  # (a new customer without either is warned about)
_ENUM_FIELDS = {f.name: _ENUMS[f.kind] for f in BY_NAME.values() if f.kind in _ENUMS}


@dataclass
class ImportOptions:
    mode: str = CREATE_UPDATE
    match: str = "email"
    empty_clears: bool = False
    max_bad_rows: int | None = None  # None: skip bad rows and go on
    date_order: str | None = None  # "dmy" | "mdy" | None: an ambiguous date is an error
    create_groups: bool = False
    # The language of new customers whose row names none: None works it out from the
    # customer's country where the store writes that country's language, else the store's
    # default; a code gives every such customer that language.
    language: str | None = None
    split_street: bool = False  # split "Hauptstraße 12" in address 1 into street and number
    number_series: bool = False  # new customers without a number get the store series' next

    @classmethod
    def from_dict(cls, data: dict | None) -> "ImportOptions":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Outcome:
    """What one row of the file will do (a plain class: a million are made per import)."""

    __slots__ = ("row", "cells", "action", "values", "previous", "customer_id", "version",
                 "group_names", "errors", "warnings", "terms", "keys")

    def __init__(self, row: int, cells, action: str, values: dict[str, Any],
                 group_names: list[str], terms: str = "", keys: dict[str, str] | None = None):
        self.row, self.cells, self.action = row, cells, action
        self.values = values  # create: all given; update: the changed ones
        self.previous: dict[str, Any] = {}  # update: the values before
        self.customer_id: int | None = None
        self.version: int | None = None
        self.group_names = group_names  # groups to add the customer to
        self.errors: list[dict[str, Any]] = []  # why the row is rejected
        self.warnings: list[dict[str, Any]] = []  # what was left out, cut or cleaned
        self.terms = terms  # create: the new customer's search terms (terms.terms_text)
        self.keys = {} if keys is None else keys  # the row's unique keys, by kind (row_keys)

    def reject(self, message: str, column: str | None = None, value: str = "") -> "Outcome":
        self.action = "reject"
        self.errors.append({"column": column, "value": value, "message": message})
        return self

    def warn(self, message: str, column: str | None = None, value: str = "") -> None:
        self.warnings.append({"column": column, "value": value, "message": message})


def empty_name_message() -> str:
    return _("Empty: the customer was imported without it.")


def from_json(name: str, value: Any) -> Any:
    kind = BY_NAME[name].kind
    if value is None:
        return None
    if kind == Kind.DATE:
        return date.fromisoformat(value)
    if kind in _ENUMS:
        return _ENUMS[kind](value)
    return value


def column_value(name: str, value: Any) -> Any:
    """A parsed value in the type its column stores (enum members for enum columns)."""
    kind = BY_NAME[name].kind if name in BY_NAME else None
    if kind in _ENUMS and value is not None and not isinstance(value, Enum):
        return _ENUMS[kind]._value2member_map_.get(value) or _ENUMS[kind](value)
    return value


class GroupNames:
    """Customer groups by folded name; the apply adds the ones the import creates."""

    def __init__(self, session: AnySession):
        self.ids = {fold(name): gid for gid, name in session.execute(
            select(CUSTOMERS.metadata.tables["customer_groups"].c.id,
                   CUSTOMERS.metadata.tables["customer_groups"].c.name))}

    def known(self, name: str) -> bool:
        return fold(name) in self.ids


class Planner:
    """Plans batches of parsed rows (which say which of their keys an earlier row had), reading
    the register in `session`. `settings` are the store's (settings.services.get_settings): its
    languages, its default language, and for the write the consent wordings and the number
    series. `erased` are the digests of the addresses erased at the customers' request
    (forget.erased_digests), keyed with `secret` (the app's SECRET_KEY)."""

    def __init__(self, options: ImportOptions, headings: list[str] | None,
                 mapping: list[str | None] | None = None, *, session: AnySession,
                 settings: dict[str, Any], erased: frozenset[str], secret: str | bytes,
                 approver: bool = True):
        self.options = options
        # Whether the one importing may approve customers (auth/rights.py); else new customers
        # wait for approval, and an existing one's approval stays as it is (`held` counts the
        # new ones; the preview says so).
        self.approver = approver
        self.held = 0
        self._approved_at = (mapping or []).index("approved") if "approved" in (
            mapping or []) else None
        self.session = session
        self.settings = settings
        # The file's own heading of the column mapped to each target, for error messages.
        self.columns = {target: headings[i] for i, target in enumerate(mapping or [])
                        if target and headings and i < len(headings) and headings[i]}
        self.groups = GroupNames(session)
        self.new_groups: set[str] = set()
        # The name fields the file has columns for: an empty one is named in a warning (a
        # file without names, a newsletter list say, is not warned about on every row).
        mapped = set(mapping or ())
        self.name_fields = [n for n in REQUIRED_NAMES
                            if n in mapped or "full_name" in mapped]
        # Addresses erased at the customer's request: a row bringing one back is stopped.
        self.erased, self.secret = erased, secret
        self.store_languages = settings["languages"]
        self.default_language = settings["default_language"]
        # New customers by the language they get (the preview shows it).
        self.languages: Counter[str] = Counter()
        # Groups the file names that do not exist (the preview lists them).
        self.missing_groups: set[str] = set()
        self._queries: dict[tuple, Any] = {}  # (see _existing_query)
        self.met_customers = False  # (see plan)
        self._country_languages: dict[str | None, str] = {}  # (see language_of)

    def reload_groups(self) -> None:
        self.groups = GroupNames(self.session)

    def heading(self, name: str) -> str:
        if name in self.columns:
            return self.columns[name]
        return str(BY_NAME[name].label) if name in BY_NAME else name

    def plan(self, parsed: list) -> list[Outcome]:
        """Outcomes for (ParsedRow, cells) pairs, in order."""
        outcomes = [self._outcome(p, cells) for p, cells in parsed]
        for outcome, (row, _cells) in zip(outcomes, parsed, strict=True):
            if row.errors or row.duplicates or outcome.group_names:  # (most rows: none)
                self._check_row(outcome, row)
        live = [o for o in outcomes if o.action != "reject"]
        existing = self._load_existing(live)
        # (whether the batch met customers: the reading side then makes no batch ready)
        self.met_customers = bool(existing["email"] or existing["customer_number"])
        if self.met_customers:
            for outcome in live:
                self._classify(outcome, existing)
        else:  # (none of the rows' keys is a customer's: each is new, or lacks its key)
            match = self.options.match
            for outcome in live:
                if outcome.keys.get(match) is not None:
                    self._plan_create(outcome)
                else:
                    self._classify(outcome, existing)
        self._drop_groups_held([o for o in outcomes if o.customer_id and o.group_names])
        if not self.approver:
            self._hold_approval(live)
        return outcomes

    def _hold_approval(self, outcomes: list[Outcome]) -> None:
        """An import by a member who may not approve customers: a new customer waits for
        approval (as one added by hand does), and an existing one keeps its approval; where the
        file said otherwise, a warning says so."""
        heading, at = self.heading("approved"), self._approved_at

        def cell(outcome: Outcome) -> str:
            return str(outcome.cells[at]) if at is not None and at < len(outcome.cells) else ""

        for outcome in outcomes:
            if outcome.action == "create":
                if outcome.values.get("approved"):
                    outcome.warn(_("Only an administrator can approve a customer: this one "
                                   "waits for approval."), heading, cell(outcome))
                outcome.values["approved"] = False
                self.held += 1
            elif "approved" in outcome.values and outcome.action == "update":
                outcome.values.pop("approved")
                outcome.previous.pop("approved", None)
                outcome.warn(_("Only an administrator can approve a customer or set one "
                               "waiting: the customer’s approval was left as it was."),
                             heading, cell(outcome))
                if not outcome.values and not outcome.group_names:
                    outcome.action = "unchanged"

    @staticmethod
    def _outcome(parsed, cells: list[str]) -> Outcome:
        values = dict(parsed.values)
        for name in _ENUM_FIELDS:  # (the parser gives members; a plain value is converted)
            value = values.get(name)
            if value is not None and not isinstance(value, Enum):
                values[name] = column_value(name, value)
        outcome = Outcome(parsed.row, cells, "create", values, list(parsed.group_names),
                          parsed.terms, parsed.keys)
        for warning in parsed.warnings:
            outcome.warn(warning.message, warning.column, warning.value)
        return outcome

    def _check_row(self, outcome: Outcome, parsed) -> None:
        for error in parsed.errors:
            outcome.reject(error.message, error.column, error.value)
        for kind, first in list(parsed.duplicates.items()):
            value = str(outcome.values[kind])
            if kind == self.options.match or kind == "email":
                outcome.reject(_("“%(value)s” is already in row %(row)d of this file.",
                                 value=value, row=first), self.heading(kind), value)
            else:  # the same number on another customer: each goes in, the later without it
                self._drop_number(outcome, _("“%(value)s” is already in row %(row)d of this "
                                             "file; this customer was imported without it.",
                                             value=value, row=first))
        if self.options.create_groups:
            return
        for name in [n for n in outcome.group_names if not self.groups.known(n)]:
            self.missing_groups.add(name)
            outcome.group_names.remove(name)
            outcome.warn(_("There is no customer group “%(name)s”; the customer was imported "
                           "without it.", name=name), self.heading("groups"), name)

    def _load_existing(self, outcomes: list[Outcome]) -> dict[str, dict[str, dict]]:
        emails = {keys["email"] for keys in (o.keys for o in outcomes) if "email" in keys}
        numbers = {keys["customer_number"] for keys in (o.keys for o in outcomes)
                   if "customer_number" in keys}
        by_email: dict[str, dict] = {}
        by_number: dict[str, dict] = {}
        # Only the columns the batch's rows give a value for (with the number, a unique key):
        # a file of a few columns reads a few, not all forty of every matched customer.
        given = {"customer_number"}.union(*(o.values for o in outcomes))
        names = ("id", "version", "deleted_at", "email_key",
                 *(name for name in WRITABLE if name in given))
        emails_list, numbers_list = list(emails), list(numbers)
        step = 2000  # one query a batch (SQLite allows 32766 parameters)
        dialect = self.session.get_bind().dialect
        for start in range(0, max(len(emails_list), len(numbers_list)), step):
            some_emails = emails_list[start:start + step]
            some_numbers = numbers_list[start:start + step]
            statement = self._existing_query(dialect, names, bool(some_emails),
                                             bool(some_numbers))
            parameters = {"emails": among_parameter(dialect, some_emails),
                          "numbers": among_parameter(dialect, some_numbers)}
            for record in self.session.execute(statement, parameters).fetchall():
                current = dict(zip(names, record, strict=True))
                by_email[current["email_key"]] = current
                if current["customer_number"]:
                    by_number[current["customer_number"]] = current
        return {"email": by_email, "customer_number": by_number}

    def new_to_register(self, emails: list[str], numbers: list[str]) -> bool:
        """Whether none of these e-mail keys and customer numbers is a customer's, and none
        of the addresses (e-mail keys are the addresses folded) was erased."""
        if self.erased and any(address_digest(email, self.secret) in self.erased
                               for email in emails):
            return False
        dialect = self.session.get_bind().dialect
        statement = self._existing_query(dialect, ("id",), bool(emails), bool(numbers))
        return self.session.execute(statement, {
            "emails": among_parameter(dialect, emails),
            "numbers": among_parameter(dialect, numbers)}).first() is None

    def _existing_query(self, dialect, names: tuple[str, ...], emails: bool, numbers: bool):
        """The customers whose e-mail key is among :emails or number among :numbers, their
        columns `names`: made once for each set of columns (a file has a few), so that it is
        compiled once."""
        key = (names, emails, numbers)
        statement = self._queries.get(key)
        if statement is None:
            conditions = []
            if emails:
                conditions.append(among_values(dialect, CUSTOMERS.c.email_key, "emails"))
            if numbers:
                conditions.append(among_values(dialect, CUSTOMERS.c.customer_number, "numbers"))
            statement = self._queries[key] = select(
                *(CUSTOMERS.c[name] for name in names)).where(or_(*conditions))
        return statement

    def _classify(self, outcome: Outcome, existing: dict[str, dict[str, dict]]) -> None:
        options = self.options
        key = outcome.keys.get(options.match)
        if key is None:
            name = options.match
            outcome.reject(_("This column is needed to find the customer and is empty."),
                           self.heading(name), "")
            return
        current = existing[options.match].get(key)
        # (a row whose only key is the one it is matched on has no other to check)
        if len(outcome.keys) > 1 and not self._unique_elsewhere(outcome, existing, current):
            return
        if current is None:
            self._plan_create(outcome)
        else:
            self._plan_update(outcome, current)

    def _unique_elsewhere(self, outcome: Outcome, existing, current: dict | None) -> bool:
        """The row's other unique key (e-mail or number) is not another customer's."""
        for name, key in list(outcome.keys.items()):
            if name == self.options.match:
                continue
            given = outcome.values[name]
            holder = existing[name].get(key)
            if holder is not None and (current is None or holder["id"] != current["id"]):
                if name == "email":  # two customers cannot share an address
                    outcome.reject(_("“%(value)s” belongs to another customer.",
                                     value=str(given)), self.heading(name), str(given))
                    return False
                self._drop_number(outcome, _("“%(value)s” belongs to another customer; this "
                                             "customer was imported without it.",
                                             value=str(given)))
        return True

    def _drop_number(self, outcome: Outcome, message: str) -> None:
        """A customer number that cannot be this customer's: the customer goes in without."""
        given = str(outcome.values.pop("customer_number"))
        outcome.keys.pop("customer_number", None)
        outcome.warn(message, self.heading("customer_number"), given)

    def _plan_create(self, outcome: Outcome) -> None:
        if self.options.mode == UPDATE_ONLY:
            outcome.reject(_("There is no such customer, and this import only updates."))
            return
        values = outcome.values
        if not values.get("email"):  # (only when matching on the customer number)
            outcome.reject(_("A new customer needs a value here."), self.heading("email"), "")
            return
        if self.erased and address_digest(values["email"], self.secret) in self.erased:
            outcome.reject(_("A customer with this address was erased at their request; add "
                             "them by hand only if they ask to come back."),
                           self.heading("email"), values["email"])
            return
        if not (values.get(_FIRST) and values.get(_LAST)):
            for name in self.name_fields:
                if not values.get(name):
                    outcome.warn(empty_name_message(), self.heading(name), "")
        language = values.get("language")
        if not language:
            language = values["language"] = self.language_of(values.get("billing_country"))
        self.languages[language] += 1
        if outcome.group_names:
            self._note_new_groups(outcome)

    def language_of(self, country: str | None) -> str:
        """The language of a new customer whose row names none (see ImportOptions.language)."""
        if self.options.language:
            return self.options.language
        language = self._country_languages.get(country)
        if language is None:  # (worked out once per country of the file)
            language = self._country_languages[country] = country_language(
                country, self.store_languages) or self.default_language
        return language

    def _plan_update(self, outcome: Outcome, current: dict) -> None:
        if self.options.mode == CREATE_ONLY:
            outcome.reject(_("This customer exists already, and this import only creates."))
            return
        if current["deleted_at"] is not None:
            outcome.reject(_("This customer is in the trash; restore it before importing."))
            return
        changed = {name: value for name, value in outcome.values.items()
                   if name in current and current[name] != value}
        outcome.customer_id, outcome.version = current["id"], current["version"]
        outcome.previous = {name: json_value(current[name]) for name in changed}
        outcome.values = changed
        outcome.action = "update" if changed else "unchanged"
        if outcome.group_names:
            self._note_new_groups(outcome)

    def _drop_groups_held(self, outcomes: list[Outcome]) -> None:
        """Keep only the groups each existing customer is not in yet; adding one is an update."""
        if not outcomes:
            return
        members = CUSTOMERS.metadata.tables["customer_group_members"]
        held: dict[int, set[int]] = {}
        ids = [o.customer_id for o in outcomes]
        for chunk in batched(ids, 400):
            query = select(members.c.customer_id, members.c.group_id).where(
                members.c.customer_id.in_(chunk))
            for customer_id, group_id in self.session.execute(query):
                held.setdefault(customer_id, set()).add(group_id)
        for outcome in outcomes:
            mine = held.get(outcome.customer_id, set())
            outcome.group_names = [n for n in outcome.group_names
                                   if self.groups.ids.get(fold(n)) not in mine]
            if outcome.group_names and outcome.action == "unchanged":
                outcome.action = "update"

    def _note_new_groups(self, outcome: Outcome) -> None:
        self.new_groups.update(n for n in outcome.group_names if not self.groups.known(n))
