"""The import's undo and report on their own: given a SQLAlchemy session, with no app built
(the `plain_session` fixture), on SQLite and PostgreSQL alike."""

from datetime import date

import pytest
from sqlalchemy import func, select

from shopadmin.audit import AuditEvent
from shopadmin.customers.choices import Gender
from shopadmin.customers.models import Customer, CustomerGroup, customer_group_members
from shopadmin.customers.search import indexed_terms
from shopadmin.imports.models import ImportChange, ImportJob, ImportRowResult, ImportStatus
from shopadmin.imports.report import write_rejected
from shopadmin.imports.undo import UNDO_BATCH, undo_changes
from shopadmin.sheets.cells import unneutralise
from shopadmin.sheets.readers import open_worksheet
from shopadmin.translation import speaking


def add_customer(session, email: str, **fields) -> Customer:
    customer = Customer(email=email, email_key=email.lower(), **fields)
    session.add(customer)
    session.flush()
    return customer


def add_job(session, **fields) -> ImportJob:
    fields.setdefault("original_name", "customers.csv")
    job = ImportJob(file_path="upload.csv", status=ImportStatus.READY, **fields)
    session.add(job)
    session.flush()
    return job


def changed_by_import(session, customer: Customer, **values) -> int:
    """Change the customer as an import does (one version on); returns the version it left."""
    for name, value in values.items():
        setattr(customer, name, value)
    session.flush()
    return customer.version


def test_undo_restores_updated_customers_and_removes_created_ones(plain_session):
    session = plain_session
    vip = CustomerGroup(name="VIP")
    session.add(vip)
    updated = add_customer(session, "Upd.Before@Shop.test", first_name="Before",
                           birth_date=date(1970, 5, 6), gender=Gender.MALE, newsletter=True)
    created = add_customer(session, "new@shop.test", first_name="Neu")
    edited_since = add_customer(session, "edited@shop.test", first_name="Ewa",
                                last_name="Nowak")
    job = add_job(session)
    version_after = changed_by_import(
        session, updated, first_name="After", email="upd@shop.test", email_key="upd@shop.test",
        birth_date=date(1971, 6, 7), gender=Gender.FEMALE, newsletter=False)
    session.execute(customer_group_members.insert().values(customer_id=updated.id,
                                                           group_id=vip.id))
    session.add_all([
        ImportChange(import_id=job.id, customer_id=updated.id, version_after=version_after,
                     added_group_ids=[vip.id],
                     previous={"first_name": "Before", "email": "Upd.Before@Shop.test",
                               "birth_date": "1970-05-06", "gender": "male",
                               "newsletter": True}),
        # 999999: a customer the import created and someone deleted since.
        ImportChange(import_id=job.id, created_ids=[created.id, edited_since.id, 999999])])
    session.commit()
    edited_since.phone = "+48 600 100 200"  # a colleague's edit after the import
    session.commit()
    ids = (updated.id, created.id, edited_since.id)

    assert undo_changes(session, job) == 2

    customers = {row.id: row for row in session.execute(select(Customer.__table__))}
    assert ids[1] not in customers and ids[2] in customers
    restored = customers[ids[0]]
    assert (restored.first_name, restored.email, restored.email_key) == (
        "Before", "Upd.Before@Shop.test", "upd.before@shop.test")
    assert (restored.birth_date, restored.gender, restored.newsletter) == (
        date(1970, 5, 6), Gender.MALE, True)
    assert restored.version == version_after + 1  # a save made before the undo now fails
    assert session.scalar(select(func.count()).select_from(customer_group_members)) == 0
    connection = session.connection()
    assert "before" in indexed_terms(ids[0], connection)
    assert "after" not in indexed_terms(ids[0], connection)
    assert indexed_terms(ids[1], connection) == set()
    assert "nowak" in indexed_terms(ids[2], connection)

    events = {(e.action, e.object_id): e.changes for e in session.scalars(select(AuditEvent))}
    assert events == {
        ("customer.deleted", ids[1]): {"import_id": job.id, "undo": True},
        ("customer.updated", ids[0]): {
            "import_id": job.id, "undo": True,
            "restored": {"first_name": "Before", "email": "Upd.Before@Shop.test",
                         "birth_date": "1970-05-06", "gender": "male", "newsletter": True}}}
    session.refresh(job)
    assert (job.status, job.task) == (ImportStatus.UNDONE, None) and job.undone_at is not None
    assert job.undo_skipped == [{"id": ids[2], "email": "edited@shop.test", "name": "Ewa Nowak"}]
    assert session.scalar(select(func.count()).select_from(ImportChange)) == 0


class WorkerDied(Exception):
    pass


def test_an_undo_cut_short_goes_on_where_it_stopped(plain_session):
    session = plain_session
    job = add_job(session)
    count = UNDO_BATCH + 5  # two batches of undo records
    for number in range(count):
        customer = add_customer(session, f"c{number}@shop.test", first_name=f"Before{number}")
        version = changed_by_import(session, customer, first_name=f"After{number}")
        session.add(ImportChange(import_id=job.id, customer_id=customer.id,
                                 previous={"first_name": f"Before{number}"},
                                 version_after=version))
    session.commit()

    def worker_dies() -> None:
        raise WorkerDied

    with pytest.raises(WorkerDied):  # after the first batch's commit
        undo_changes(session, job, checkpoint=worker_dies)
    session.rollback()
    names = session.scalars(select(Customer.first_name)).all()
    assert sum(name.startswith("Before") for name in names) == UNDO_BATCH
    assert session.get(ImportJob, job.id).status == ImportStatus.READY

    assert undo_changes(session, job) == 5  # the rest, nothing twice
    rows = session.execute(select(Customer.first_name, Customer.version)).all()
    assert all(name.startswith("Before") and version == 3 for name, version in rows)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == count
    assert session.get(ImportJob, job.id).status == ImportStatus.UNDONE


def add_results(session, job: ImportJob) -> None:
    session.add_all([
        ImportRowResult(import_id=job.id, row=3, rejected=True,
                        cells=["Jan", "zły@", "Łódź", "a cell beyond the columns"],
                        errors=[{"column": "E-mail", "value": "zły@",
                                 "message": "not an address"}]),
        ImportRowResult(import_id=job.id, row=2, rejected=True, cells=["Ewa"],
                        errors=[{"column": None, "value": "", "message": "no e-mail"}]),
        ImportRowResult(import_id=job.id, row=4, rejected=False,
                        cells=["Olga", "olga@shop.test", "=1+1"],
                        warnings=[{"column": "Miasto", "value": "=1+1",
                                   "message": "cleaned"}])])
    session.commit()


def test_the_rejected_rows_in_the_uploads_format_and_the_spoken_language(plain_session,
                                                                         tmp_path):
    session = plain_session
    job = add_job(session, original_name="klienci.csv", file_format="csv", delimiter=";",
                  headings=["Imię", "E-mail", "Miasto"],
                  mapping=["first_name", "email", "billing_city"])
    add_results(session, job)

    with speaking("pl"):
        path, name, mimetype = write_rejected(session, job, tmp_path)

    assert (name, mimetype) == ("klienci-odrzucone.csv", "text/csv")
    sheet = open_worksheet(path)
    assert sheet.delimiter == ";"
    assert sheet.headings == ["Imię", "E-mail", "Miasto", "Błąd importu"]
    assert list(sheet.rows()) == [  # by row, cut or filled to the file's columns
        (2, ["Ewa", "", "", "no e-mail"]),
        (3, ["Jan", "zły@", "Łódź", "E-mail: not an address"])]


def test_the_warned_rows_of_a_file_without_headings(plain_session, tmp_path):
    session = plain_session
    job = add_job(session, original_name="Kunden.xlsx", file_format="xlsx",
                  has_headings=False, headings=[],
                  mapping=["first_name", "email", "billing_city"])
    add_results(session, job)

    with speaking("de"):
        path, name, _mimetype = write_rejected(session, job, tmp_path, rejected=False)

    assert name == "Kunden-Warnungen.xlsx"
    sheet = open_worksheet(path)
    assert sheet.format == "xlsx"
    assert sheet.headings == ["Spalte 1", "Spalte 2", "Spalte 3", "Importwarnungen"]
    # The formula is guarded, and the import reads it back as it was written.
    [(number, cells)] = list(sheet.rows())
    assert (number, cells) == (2, ["Olga", "olga@shop.test", "'=1+1", "Miasto: cleaned"])
    assert unneutralise(cells[2]) == "=1+1"
