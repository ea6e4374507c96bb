"""The customer list filtered by an import or by its warnings: counted once while nothing changes
(counting reads a customer per warned row), and counted again after any change of the register
or of the import's records, on SQLite and PostgreSQL."""

from sqlalchemy import delete, insert
from werkzeug.datastructures import MultiDict

from shopadmin.customers.listing import count_customers, list_customers
from shopadmin.customers.trash import delete_customer, restore_customer
from shopadmin.extensions import db
from shopadmin.imports.models import ImportChange, ImportJob, ImportRowResult, ImportStatus

from ..factories import make_customer, make_staff
from ..statements import Statements


def _import_with_warnings(customers) -> ImportJob:
    job = ImportJob(file_path="a.csv", original_name="a.csv", status=ImportStatus.READY)
    db.session.add(job)
    db.session.flush()
    db.session.execute(insert(ImportRowResult), [
        {"import_id": job.id, "row": n + 2, "cells": [], "errors": [], "rejected": False,
         "warnings": [{"field": "birth_date", "message": "left empty"}],
         "customer_id": customer.id} for n, customer in enumerate(customers)])
    # A rejected row names no customer and is no warning.
    db.session.execute(insert(ImportRowResult), [
        {"import_id": job.id, "row": 99, "cells": [], "errors": [{"message": "x"}],
         "rejected": True, "warnings": [], "customer_id": None}])
    db.session.commit()
    return job


def test_the_warned_list_is_counted_once_and_again_after_every_change(app):
    customers = [make_customer() for _ in range(8)]
    job = _import_with_warnings(customers[:5])
    warned = MultiDict({"warnings": "yes"})
    with Statements(lambda statement: statement.lstrip().upper().startswith(
            "SELECT COUNT(CUSTOMERS.ID)")) as counts:
        assert count_customers(warned) == 5
        assert list_customers(warned, 1, 2).total == 5
        assert [c.id for c in list_customers(warned, 3, 2).customers] == [customers[4].id]
    assert counts.count == 1  # counted once, then kept while nothing changed
    # The import's own warnings: a list of its own (its customers: those it made or changed).
    assert count_customers(MultiDict({"warnings": "yes", "import": str(job.id)})) == 0

    # A warning more (a new row of the import's results).
    db.session.execute(insert(ImportRowResult).values(
        import_id=job.id, row=50, cells=[], errors=[], rejected=False,
        warnings=[{"field": "phone", "message": "cut"}], customer_id=customers[6].id))
    db.session.commit()
    assert count_customers(warned) == 6
    # One fewer, not the newest (the highest id stays): the count of rows moves.
    db.session.execute(delete(ImportRowResult).where(
        ImportRowResult.customer_id == customers[0].id))
    db.session.commit()
    assert count_customers(warned) == 5
    assert customers[0].id not in [c.id for c in list_customers(warned, 1, 10).customers]
    # The register: a warned customer to the trash and back.
    admin = make_staff("admin")
    delete_customer(customers[1], actor=admin)
    db.session.commit()
    assert count_customers(warned) == 4
    assert list_customers(warned, 1, 10).total == 4
    restore_customer(customers[1], actor=admin)
    db.session.commit()
    assert count_customers(warned) == 5


def test_an_imports_list_is_counted_again_when_its_undo_record_changes(app):
    customers = [make_customer() for _ in range(4)]
    job = ImportJob(file_path="a.csv", original_name="a.csv", status=ImportStatus.READY)
    db.session.add(job)
    db.session.flush()
    db.session.add(ImportChange(import_id=job.id, customer_id=customers[0].id,
                                previous={"first_name": "Ann"}))
    db.session.commit()
    of_the_import = MultiDict({"import": str(job.id)})
    assert count_customers(of_the_import) == 1
    db.session.add(ImportChange(import_id=job.id, customer_id=customers[2].id,
                                previous={"first_name": "Jo"}))
    db.session.commit()
    assert count_customers(of_the_import) == 2
    assert list_customers(of_the_import, 1, 10).total == 2
