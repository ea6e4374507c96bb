"""The writing side of a batch made ready by the reading side (ready.py): the plan it is made
by, and its write, which is a handful of executemany calls and no planning of its own.

A ready batch whose keys turn out to be customers' already (or an erased address) is planned
and written the usual way instead (pipeline._flush), from its rows as they were read.
"""

from collections import defaultdict

from ..customers.search import index_new
from ..customers.terms import terms_text
from ..database import utcnow
from ..i18n import COUNTRY_LANGUAGES
from ..parallel import cells_of
from .plan import CREATE_ONLY, CREATE_UPDATE, Planner, empty_name_message
from .ready import ReadyBatch, ReadyPlan
from .write import BatchWriter, column_defaults, insert_created_record, insert_results_rows


def ready_plan(planner: Planner, rows: int) -> ReadyPlan | None:
    """What the reading side needs to make batches ready for this import; None where no
    batch can be (an import that only updates, numbers new customers from the store's
    series, or is run by someone who may not approve customers: planned row by row)."""
    options = planner.options
    if (options.mode not in (CREATE_UPDATE, CREATE_ONLY) or options.number_series
            or not planner.approver):
        return None
    return ReadyPlan(
        defaults=column_defaults(), match=options.match,
        languages={country: planner.language_of(country) for country in COUNTRY_LANGUAGES},
        default_language=planner.language_of(None),
        name_headings=tuple((name, planner.heading(name)) for name in planner.name_fields),
        empty_message=empty_name_message(), rows=rows)


def write_ready(writer: BatchWriter, ready: ReadyBatch) -> bool:
    """Write the batch's new customers with their undo record, audit and consent events, row
    results and search terms; False (nothing written) when a key of the batch is a
    customer's already or an address was erased: the batch is then planned as usual."""
    planner = writer.planner
    if not planner.new_to_register(ready.emails, [n for n in ready.numbers if n is not None]):
        return False
    now = utcnow()
    ids = writer.insert_columns(len(ready), dict(zip(ready.names, ready.columns, strict=True)),
                                ready.emails, now)
    connection = writer.connection
    insert_created_record(connection, writer.import_id, ids)
    writer.audit_created(ids, now)
    kinds: dict[tuple[bool, str], list[int]] = defaultdict(list)
    for language, positions in ready.subscribers.items():
        kinds[True, writer.wording_language(language)] += [ids[p] for p in positions]
    for customer_ids in kinds.values():  # (in the order of the file, as planned rows are)
        customer_ids.sort()
    writer.insert_consent_kinds(kinds, now)
    insert_results_rows(connection, [
        {"import_id": writer.import_id, "row": ready.rows[position],
         "cells": cells_of(ready.cells[position]), "errors": [], "warnings": warnings,
         "rejected": False, "customer_id": ids[position]}
        for position, warnings in ready.warned])
    index_new(connection, zip(ids, _terms(ready), strict=True))
    return True


def _terms(ready: ReadyBatch) -> list[str]:
    """The rows' search terms; those the reading side left to the writer made here."""
    if all(ready.terms):
        return ready.terms
    return [terms or terms_text(ready.values_of(position))
            for position, terms in enumerate(ready.terms)]

