"""Batches of new customers made ready by the reading side (imports/ready.py) and written
without planning (imports/ready_write.py): the same register, history, search, row results
and undo as the usual planning gives, and really taken for a batch of new rows."""

import logging
import re

import pytest
from sqlalchemy import inspect, select, text
from werkzeug.datastructures import MultiDict

from shopadmin.audit import AuditEvent
from shopadmin.customers.forget import address_digest
from shopadmin.customers.listing import count_customers
from shopadmin.customers.models import ConsentEvent, Customer, ErasedAddress
from shopadmin.customers.search import indexed_terms
from shopadmin.extensions import db
from shopadmin.imports.models import ImportChange, ImportJob, ImportRowResult
from shopadmin.imports.undo import undo_changes

from ..conftest import POSTGRES_URL

HEADINGS = "E-mail,First name,Last name,Country,Language,Newsletter,Birth date,Customer number"
# Batches of four rows (IMPORT_BATCH_ROWS): new customers alone (made ready and written so); a
# batch of rows the file alone cannot tell from new ones, though one is a customer and one
# takes another's number (made ready, then planned after all); a batch with a row an earlier
# row of the file has, and an existing customer (planned); new ones again (planned: the last
# batches met customers, so the reading side makes none ready until one meets none); and a
# row bringing back an erased address (made ready again, then planned).
ROWS = [
    "anna@shop.test,Anna,Adler,DE,de,yes,1980-02-03,",
    "ben@shop.test,Ben,Bauer,PL,,yes,,",
    "cleo@shop.test,Cleo,Claes,FR,fr,yes,31.02.1980,",
    "dora@shop.test,Dora,,GB,,no,,",
    "gina@shop.test,Gina,Gold,IT,,yes,,",
    "old2@shop.test,Otto,Other,,,no,,",
    "hans@shop.test,Hans,Hahn,AT,,,30.02.1975,",
    "ida@shop.test,Ida,Iske,PL,pl,yes,,K-1",
    "eva@shop.test,Eva,Engel,DE,,yes,,",
    "ANNA@shop.test,Anna,Again,DE,,,,",
    "fred@shop.test,Fred,Falk,,en,no,,",
    "old@shop.test,Olga,Older,DE,,yes,,",
    "jan@shop.test,Jan,Janssen,NL,,yes,,",
    "kai@shop.test,Kai,,PL,pl,yes,,",
    "lea@shop.test,Lea,Lang,CH,fr,no,2001-12-24,K-7",
    "mia@shop.test,Mia,Moll,DE,,yes,,",
    "nora@shop.test,Nora,Nagel,DE,,yes,,",
    "erased@shop.test,Eric,Erased,DE,,yes,,",
]
READY_LOG = re.compile(r"(\d+) of (\d+) rows written in batches made ready")


def _emptied() -> None:
    """The register as the template left it, its ids starting again from 1."""
    db.session.rollback()
    with db.engine.begin() as connection:
        if POSTGRES_URL:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            present = set(inspect(connection).get_table_names())
            for table in reversed(db.metadata.sorted_tables):
                if table.name in present:
                    connection.execute(table.delete())
            connection.exec_driver_sql("DELETE FROM customer_search")
            connection.exec_driver_sql("DELETE FROM sqlite_sequence")


def _seeded() -> None:
    db.session.add_all([
        Customer(email="old@shop.test", email_key="old@shop.test", first_name="Olga",
                 last_name="Old", customer_number="K-1", language="de"),
        Customer(email="old2@shop.test", email_key="old2@shop.test", first_name="Otto",
                 last_name="Other", newsletter=True),
        ErasedAddress(digest=address_digest("erased@shop.test"))])
    db.session.commit()


def _rows(table, *left_out: str) -> list[dict]:
    return [{name: value for name, value in row._mapping.items() if name not in left_out}
            for row in db.session.execute(select(table).order_by(table.c.id))]


def _register() -> dict:
    """What an import leaves: every row it wrote (but the moments), by id."""
    db.session.expire_all()
    customers = _rows(Customer.__table__, "created_at", "updated_at")
    for customer in customers:  # (set at the import's moment, or not)
        customer["newsletter_changed_at"] = customer["newsletter_changed_at"] is not None
    return {
        "customers": customers,
        "consent": _rows(ConsentEvent.__table__, "created_at"),
        "audit": _rows(AuditEvent.__table__, "created_at"),
        "undo records": _rows(ImportChange.__table__),
        "row results": _rows(ImportRowResult.__table__, "created_at"),
        "terms": {c["id"]: indexed_terms(c["id"]) for c in customers},
        "searches": [count_customers(MultiDict({"q": q}))
                     for q in ("anna", "bauer", "k-7", "old", "janssen", "a")],
    }


def _imported(app, runner, caplog, path, ready: bool, *options: str) -> tuple[dict, int]:
    """The register after importing the file into the seeded one, the counts, the register
    after the undo; and the rows written in ready batches."""
    _emptied()
    _seeded()
    app.config["IMPORT_READY_BATCHES"] = ready
    caplog.clear()
    result = runner.invoke(args=["customers", "import", str(path), *options])
    assert result.exit_code == 0, result.output
    job = db.session.scalar(select(ImportJob))
    counts = (job.created, job.updated, job.unchanged, job.rejected, job.warned, job.rows_done)
    after = _register()
    undo_changes(db.session, job)
    written = [int(m.group(1)) for m in map(READY_LOG.search, caplog.messages) if m]
    return {"import": after, "counts": counts, "undone": _register()}, written[-1]


@pytest.mark.parametrize("parallel,empty_clears", [(False, False), (True, True)])
def test_ready_batches_store_what_planning_stores(app, runner, caplog, tmp_path, parallel,
                                                 empty_clears):
    caplog.set_level(logging.INFO, logger="shopadmin.imports.pipeline")
    app.config["IMPORT_BATCH_ROWS"] = 4
    if parallel:  # (read and parsed by a second process, as a big file is)
        app.config["IMPORT_PARALLEL_ROWS"] = 0
    path = tmp_path / "customers.csv"
    path.write_text("\n".join([HEADINGS, *ROWS]) + "\n", encoding="utf-8")
    options = ("--empty-clears",) if empty_clears else ()

    planned, none_ready = _imported(app, runner, caplog, path, False, *options)
    ready, written_ready = _imported(app, runner, caplog, path, True, *options)

    assert none_ready == 0
    # The first batch (a second process may make more ready: it reads ahead of the writer)
    assert written_ready == 4 if not parallel else written_ready >= 4
    assert ready == planned
    created, updated, unchanged, rejected, warned, rows = planned["counts"]
    assert (created, updated, rejected, rows) == (14, 2, 2, 18)
    assert warned == 5  # two birth dates, two empty last names, a number held by another
    customers = {c["email_key"]: c for c in planned["import"]["customers"]}
    assert customers["ben@shop.test"]["language"] == customers["ida@shop.test"]["language"]
    assert customers["ida@shop.test"]["customer_number"] is None
    assert customers["old@shop.test"]["last_name"] == "Older"
    assert [c["email_key"] for c in planned["undone"]["customers"]] == [
        "old@shop.test", "old2@shop.test"]


def test_a_file_of_new_customers_is_written_in_ready_batches(app, runner, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="shopadmin.imports.pipeline")
    app.config["IMPORT_BATCH_ROWS"] = 3
    path = tmp_path / "new.csv"
    path.write_text("\n".join([HEADINGS, *ROWS[:5], ROWS[6], ROWS[8]]) + "\n",
                    encoding="utf-8")
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created: 7" in result.output and "imported with warnings: 3" in result.output
    assert [m.groups() for m in map(READY_LOG.search, caplog.messages) if m] == [("7", "7")]
    consent = db.session.scalars(select(ConsentEvent.customer_id).order_by(ConsentEvent.id))
    subscribers = db.session.scalars(select(Customer.id).where(Customer.newsletter)
                                     .order_by(Customer.id))
    assert list(consent) == list(subscribers)
