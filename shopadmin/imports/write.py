"""Write a planned batch with Core statements: customers, undo record, audit, consent, groups.

One executemany per kind of statement, never one ORM object per row. Flushes nothing of its own
beyond the session's connection; the caller commits the batch together with the job's progress,
so a batch is either wholly written and counted, or not at all. No Flask here: the session and
the store settings are the planner's (the caller gives them to it).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from itertools import repeat
from typing import Any, cast

from sqlalchemy import Connection, Dialect, bindparam, func, insert, literal_column, select, update
from sqlalchemy.sql.dml import Insert

from ..audit import AuditEvent
from ..batching import batched
from ..bulk import (
    among,
    execute_lists,
    execute_many,
    insert_each,
    memoised,
    parameter_order,
    update_by_arrays,
)
from ..customers.consent import shipped_wording, wording_language, wordings
from ..customers.models import ConsentEvent, ConsentSource, CustomerGroup, Origin
from ..customers.numbers import AnySession, take_numbers
from ..database import json_value, utcnow
from ..text import email_key, fold
from .models import ImportChange, ImportRowResult
from .plan import CUSTOMERS, Outcome, Planner

MEMBERS = CUSTOMERS.metadata.tables["customer_group_members"]


def _column_defaults() -> dict[str, Any]:
    """Every customer column with the value a new customer starts with."""
    template: dict[str, Any] = {}
    for column in CUSTOMERS.columns:
        if column.primary_key:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            template[column.name] = default.arg
        else:
            template[column.name] = None
    return template


_TEMPLATE = _column_defaults()


def column_defaults() -> dict[str, Any]:
    """Every customer column with the value a new customer starts with (a copy)."""
    return dict(_TEMPLATE)


_COLUMNS = tuple(_TEMPLATE)
_ROW_OWN = ("email_key", "newsletter_changed_at")  # what the writer sets in a row itself


def _customers_insert(dialect: Dialect, given: set[str]) -> tuple[Insert, tuple[str, ...]]:
    """The INSERT of a batch's new customers, and the columns its rows bind (in the table's
    order): on SQLite the columns that no row of the batch gives are written as their
    defaults in the statement itself (at 100,000 new customers of 22 given columns, binding all
    57 took SQLite 1.26 s of CPU, binding the 22 with the rest as constants 0.73 s); on
    PostgreSQL every column is bound (its COPY takes them all: bulk.py)."""
    if dialect.name != "sqlite":
        return insert(CUSTOMERS), _COLUMNS
    constants = {name: _constant_sql(dialect, name) for name in _COLUMNS if name not in given}
    kept = {name: sql for name, sql in constants.items() if sql is not None}
    columns = tuple(name for name in _COLUMNS if name not in kept)
    return insert(CUSTOMERS).values({name: literal_column(sql) for name, sql in kept.items()}), \
        columns


@cache
def _constant_sql(dialect: Dialect, name: str) -> str | None:
    """A column's default as an SQL constant, exactly as its bind processor stores it (None:
    a value of another kind, which stays a bound parameter)."""
    value = _TEMPLATE[name]
    process = CUSTOMERS.c[name].type._cached_bind_processor(dialect)
    value = process(value) if process is not None and value is not None else value
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None
_AUDIT = AuditEvent.__table__
_CONSENT = ConsentEvent.__table__
_CHANGES = ImportChange.__table__
_RESULTS = ImportRowResult.__table__


class BatchWriter:
    def __init__(self, import_id: int, actor_id: int | None, planner: Planner):
        self.import_id = import_id
        self.actor_id = actor_id
        self.planner = planner
        self.session: AnySession = planner.session  # the statements run in the planner's session
        self.settings = planner.settings  # the store's, as the plan read them
        self.consent_wordings = wordings(self.settings)
        self._wording_languages: dict[str | None, str] = {}

    @property
    def connection(self) -> Connection:
        """The session's connection (a new one after each commit)."""
        return self.session.connection()

    def write(self, outcomes: list[Outcome]) -> list[int]:
        """Write the batch; returns the ids of the customers created or updated."""
        now = utcnow()
        self._create_groups(now)
        created = [o for o in outcomes if o.action == "create"]
        updated = [o for o in outcomes if o.action == "update"]
        if self.planner.options.number_series:
            self._number(created)
        self._insert_customers(created, now)
        self._update_customers(updated, now)
        changed = created + updated
        self._insert_memberships(changed)
        self._insert_undo_record(created, updated)
        self._insert_audit(changed, now)
        self._insert_consent(changed, now)
        insert_results(self.connection, self.import_id, outcomes, written=True)
        return [o.customer_id for o in changed]

    def _number(self, created: list[Outcome]) -> None:
        """New customers without a customer number get the series' next free ones."""
        without = [o for o in created if not o.values.get("customer_number")]
        own = {o.values["customer_number"] for o in created if o.values.get("customer_number")}
        numbers = take_numbers(self.session, self.settings, len(without), own)
        for outcome, number in zip(without, numbers, strict=True):
            outcome.values["customer_number"] = number

    def _create_groups(self, now: datetime) -> None:
        for name in sorted(self.planner.new_groups):
            if self.planner.groups.known(name):
                continue
            result = self.session.execute(insert(CustomerGroup.__table__).values(
                name=name.strip()[:120], description="", created_at=now))
            self.planner.groups.ids[fold(name)] = result.inserted_primary_key[0]
        self.planner.new_groups.clear()

    def _insert_customers(self, outcomes: list[Outcome], now: datetime) -> None:
        if not outcomes:
            return
        given = [o.values for o in outcomes]
        columns = {name: [values.get(name, _TEMPLATE[name]) for values in given]
                   for name in set().union(*given)}
        ids = self.insert_columns(len(given), columns, [o.keys["email"] for o in outcomes], now)
        for outcome, customer_id in zip(outcomes, ids, strict=True):
            outcome.customer_id, outcome.version = customer_id, 1

    def insert_columns(self, count: int, columns: dict[str, list[Any]], keys: list[str],
                       now: datetime) -> list[int]:
        """Insert `count` new customers given a column at a time (each row's value, or the
        column's default where the row gives none), with their unique e-mail `keys`; returns
        their ids, in order."""
        connection = self.connection
        fixed = {"origin": Origin.IMPORT, "version": 1, "created_at": now, "updated_at": now,
                 "created_by_id": self.actor_id, "updated_by_id": self.actor_id,
                 "import_id": self.import_id}
        present = {*fixed, *_ROW_OWN, *columns}
        statement, names = _customers_insert(connection.dialect, present)
        order = parameter_order(connection.dialect, statement, names, "import-customers")
        # The rows are zipped from a list per column: no Python loop over a row's values.
        # Each column's bind processor (where it has one) converts each distinct value once;
        # what the import sets itself (fixed) the file never sets.
        vectors = []
        for name, process in order:
            vector: Iterable[Any]
            if name in fixed:
                value = fixed[name]
                vector = repeat(value if process is None or value is None
                                else process(value), count)
            elif name == "newsletter_changed_at":  # (set when the row subscribes; else None)
                stamp = now if process is None else process(now)
                vector = [stamp if subscribes else None
                          for subscribes in columns.get("newsletter", ())] or repeat(None, count)
            elif name == "email_key":
                vector = keys
            elif name not in columns:  # (PostgreSQL: COPY takes every column) its default
                default = _TEMPLATE[name]
                vector = repeat(default if process is None or default is None
                                else process(default), count)
            else:
                vector = columns[name]
                if process is not None:
                    vector = _each_converted(vector, process)
            vectors.append(vector)
        rows = list(zip(*vectors, strict=False))
        before = connection.execute(select(func.max(CUSTOMERS.c.id))).scalar() or 0
        execute_lists(connection, statement, names, rows, "import-customers", converted=True)
        return _new_ids(connection, before, keys)

    def _update_customers(self, outcomes: list[Outcome], now: datetime) -> None:
        by_columns: dict[tuple[str, ...], list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            by_columns[tuple(sorted(outcome.values))].append(outcome)
        for columns, group in by_columns.items():
            extra = {"email_key"} if "email" in columns else set()
            if "newsletter" in columns:
                extra.add("newsletter_changed_at")
            names = [*columns, *sorted(extra)]
            statement = (
                update(CUSTOMERS)
                .where(CUSTOMERS.c.id == bindparam("_id"),
                       CUSTOMERS.c.version == bindparam("_version"))
                .values({**{name: bindparam(name) for name in names},
                         "version": bindparam("_new_version"), "updated_at": now,
                         "updated_by_id": self.actor_id})
            )
            params = []
            for outcome in group:
                param = {"_id": outcome.customer_id, "_version": outcome.version,
                         "_new_version": outcome.version + 1, **outcome.values}
                if "email_key" in extra:
                    param["email_key"] = email_key(outcome.values["email"])
                if "newsletter_changed_at" in extra:
                    param["newsletter_changed_at"] = now
                params.append(param)
                outcome.version += 1
            if self.connection.dialect.name == "postgresql":
                count = _update_postgresql(self.connection, params, names, now, self.actor_id)
            else:
                count = execute_many(self.connection, statement, params)
            if count != len(params):
                raise ConcurrentChange()

    def _insert_memberships(self, outcomes: list[Outcome]) -> None:
        rows, seen = [], set()
        for outcome in outcomes:
            for name in outcome.group_names:
                group_id = self.planner.groups.ids[fold(name)]
                if (outcome.customer_id, group_id) not in seen:
                    seen.add((outcome.customer_id, group_id))
                    rows.append({"customer_id": outcome.customer_id, "group_id": group_id})
        execute_many(self.connection, insert(MEMBERS), rows, cache_key="import-members")

    def _group_ids(self, outcome: Outcome) -> list[int]:
        return sorted({self.planner.groups.ids[fold(name)] for name in outcome.group_names})

    def _insert_undo_record(self, created: list[Outcome], updated: list[Outcome]) -> None:
        rows = [{"import_id": self.import_id, "customer_id": o.customer_id, "created_ids": [],
                 "previous": o.previous, "added_group_ids": self._group_ids(o),
                 "version_after": o.version} for o in updated]
        if created:
            rows.append(_created_record(self.import_id, [o.customer_id for o in created]))
        execute_many(self.connection, insert(_CHANGES), rows, cache_key="import-changes")

    def _insert_audit(self, outcomes: list[Outcome], now: datetime) -> None:
        """An audit event for every customer created (the same but for the id: one statement)
        and every customer updated (with its changes)."""
        self.audit_created([o.customer_id for o in outcomes if o.action == "create"], now)
        event = self._event(now)
        rows = []
        for outcome in outcomes:
            if outcome.action == "create":
                continue
            changes = {name: [outcome.previous.get(name), json_value(value)]
                       for name, value in outcome.values.items()}
            if outcome.group_names:
                changes["groups"] = [None, sorted(outcome.group_names)]
            changes["import_id"] = self.import_id
            rows.append({**event, "action": "customer.updated",
                         "object_id": outcome.customer_id, "changes": changes})
        execute_many(self.connection, insert(_AUDIT), rows, cache_key="import-audit")

    def _event(self, now: datetime) -> dict[str, Any]:
        return {"created_at": now, "actor_id": self.actor_id, "source": "import",
                "object_type": "customer"}

    def audit_created(self, customer_ids: list[Any], now: datetime) -> None:
        """The audit events of new customers (the same but for the id: one statement)."""
        insert_each(self.connection, _AUDIT, {**self._event(now), "action": "customer.created",
                                              "changes": {"import_id": self.import_id}},
                    "object_id", customer_ids)

    def _insert_consent(self, outcomes: list[Outcome], now: datetime) -> None:
        """A consent event for each new subscriber and each change, with the statement in the
        customer's language (the row's, else the one stored)."""
        changed = [o for o in outcomes
                   if "newsletter" in o.values and (o.action == "update" or o.values["newsletter"])]
        unknown = [o.customer_id for o in changed
                   if o.action == "update" and "language" not in o.values]
        stored = dict(self.session.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.language).where(
            CUSTOMERS.c.id.in_(unknown))).all()) if unknown else {}
        # The events of the batch by what they record (subscribed or not, in which language),
        # each kind written by one statement over its customers' ids.
        kinds: dict[tuple[bool, str], list[int]] = defaultdict(list)
        for o in changed:
            language = self.wording_language(
                o.values["language"] if "language" in o.values else stored.get(o.customer_id))
            kinds[bool(o.values["newsletter"]), language].append(
                cast(int, o.customer_id))  # (written above: it has its id)
        self.insert_consent_kinds(kinds, now)

    def insert_consent_kinds(self, kinds: dict[tuple[bool, str], list[int]],
                             now: datetime) -> None:
        """The consent events of customers by (subscribed, wording language)."""
        for (subscribed, language), customer_ids in kinds.items():
            insert_each(self.connection, _CONSENT, {
                "created_at": now, "subscribed": subscribed, "source": ConsentSource.IMPORT,
                "actor_id": self.actor_id,
                "wording": self.consent_wordings.get(language) or shipped_wording(language),
                "wording_language": language}, "customer_id", customer_ids)

    def wording_language(self, customer_language: str | None) -> str:
        """consent.wording_language, worked out once per customer language of the import."""
        known = self._wording_languages.get(customer_language)
        if known is None:
            known = self._wording_languages[customer_language] = wording_language(
                customer_language, self.settings)
        return known



def _created_record(import_id: int, created_ids: list[Any]) -> dict[str, Any]:
    """The undo record of a batch's new customers."""
    return {"import_id": import_id, "customer_id": None, "created_ids": created_ids,
            "previous": {}, "added_group_ids": [], "version_after": 1}


def insert_created_record(connection: Connection, import_id: int, created_ids: list[Any]) -> None:
    execute_many(connection, insert(_CHANGES), [_created_record(import_id, created_ids)],
                 cache_key="import-changes")


def _each_converted(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """The values through their column's bind processor, each distinct value converted once
    (a column's values repeat: yes/no, genders, birth dates); None stays None."""
    try:
        distinct = set(values)
    except TypeError:  # (an unhashable value: one by one)
        convert = memoised(process)
        return [convert(value) for value in values]
    converted = {value: None if value is None else process(value) for value in distinct}
    return list(map(converted.__getitem__, values))


def _new_ids(connection: Connection, before: int, keys: list[str]) -> list[int]:
    """The ids of the customers just inserted (in the order of their unique e-mail `keys`),
    whose ids were above `before`. On SQLite, whose transaction holds the write lock, each
    new row takes the highest id so far plus one: when the highest id is now `before` plus
    their number, they are those ids in order (nothing to read back). Else they are read by
    their keys: the rows after `before` along the primary key (others' new customers among
    them are passed over), then keys not found there (ids given out of order) by the e-mail
    index."""
    if connection.dialect.name == "sqlite":
        highest = connection.execute(select(func.max(CUSTOMERS.c.id))).scalar() or 0
        if highest - before == len(keys):
            return list(range(before + 1, highest + 1))
    ids = {key: customer_id for customer_id, key in connection.execute(
        select(CUSTOMERS.c.id, CUSTOMERS.c.email_key).where(CUSTOMERS.c.id > before))}
    missing = [key for key in keys if key not in ids]
    for chunk in batched(missing, 2000):
        ids.update((key, customer_id) for customer_id, key in connection.execute(
            select(CUSTOMERS.c.id, CUSTOMERS.c.email_key)
            .where(among(connection.dialect, CUSTOMERS.c.email_key, chunk))))
    return [ids[key] for key in keys]


def _update_postgresql(connection: Connection, params: list[dict[str, Any]], names: list[str],
                       now: datetime, actor_id: int | None) -> int:
    """PostgreSQL: the batch's updates of these columns as one UPDATE ... FROM unnest(...)
    (bulk.update_by_arrays), with the same version check; returns the rows it changed."""
    return update_by_arrays(
        connection, CUSTOMERS, params,
        sets={**{name: name for name in names}, "_new_version": "version"},
        where={"_id": "id", "_version": "version"},
        constants={"updated_at": now, "updated_by_id": actor_id})


def insert_results(connection: Connection, import_id: int, outcomes: list[Outcome], *,
                   written: bool = False) -> None:
    """Keep the rows with problems: the rejected ones, and the ones with warnings (when
    `written`, with the customer they went into)."""
    from ..parallel import cells_of

    insert_results_rows(connection, [
        {"import_id": import_id, "row": o.row, "cells": cells_of(o.cells), "errors": o.errors,
         "warnings": o.warnings, "rejected": o.action == "reject",
         "customer_id": o.customer_id if written else None}
        for o in outcomes if o.warnings or o.action == "reject"])


def insert_results_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    execute_many(connection, insert(_RESULTS), rows, cache_key="import-results")


class ConcurrentChange(Exception):
    """A customer changed between planning and writing the batch: plan it again."""
