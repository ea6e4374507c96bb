"""A big import into an empty register builds the customers' secondary indexes at its end
(imports/deferred.py); whatever happens to the run, they come back."""

import io

import pytest
from sqlalchemy import text

from shopadmin.customers.models import Customer
from shopadmin.customers.search import indexed_customers
from shopadmin.extensions import db
from shopadmin.imports import deferred, services
from shopadmin.imports.models import ImportJob, ImportStatus
from shopadmin.imports.pipeline import run_import
from shopadmin.imports.plan import ImportOptions

from ..factories import make_customer


def index_names() -> set[str]:
    """The indexes of the customers' tables, as the database lists them (the unique keys too:
    pk_/uq_ on PostgreSQL, sqlite_autoindex_ on SQLite)."""
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        query = ("SELECT name FROM sqlite_master WHERE type = 'index' "
                 "AND tbl_name IN ('customers', 'customer_search_vectors')")
    else:
        query = ("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                 "AND tablename IN ('customers', 'customer_search_vectors')")
    return set(db.session.execute(text(query)).scalars())


def unique_keys(names: set[str]) -> set[str]:
    return {name for name in names if name.startswith(("pk_", "uq_", "sqlite_autoindex_"))}


def new_job(rows: int) -> ImportJob:
    lines = ["First name;Last name;E-mail;Customer number"]
    lines += [f"Ann;Lee {n};ann{n}@shop.test;N{n:05d}" for n in range(rows)]
    content = ("\r\n".join(lines) + "\r\n").encode()
    job = services.start_import(io.BytesIO(content), "customers.csv")
    services.save_mapping(job, job.mapping)
    services.save_options(job, ImportOptions())
    db.session.commit()
    return job


@pytest.fixture
def defer_every_import(app):
    app.config.update(IMPORT_DEFER_INDEX_ROWS=0, IMPORT_BATCH_ROWS=50)
    yield
    deferred.restore()  # (a failed test leaves no later test without its indexes)
    db.session.commit()


def test_an_import_into_an_empty_register_builds_its_indexes_at_the_end(defer_every_import):
    before = index_names()
    assert "ix_customers_live_name" in before and len(unique_keys(before)) >= 2
    job = new_job(300)
    during = []
    run_import(job, dry_run=False, progress=lambda _job: during.append(
        (set(deferred.held_aside()), index_names())))
    aside, present = during[0]
    # While it wrote: the sorting and filtering indexes aside, the unique keys kept.
    assert "ix_customers_live_name" in aside and "ix_customers_live_name" not in present
    assert unique_keys(present) == unique_keys(before) and not unique_keys(aside)
    assert present == before - aside
    # Afterwards: every index as before, the record gone, every customer in and indexed.
    assert index_names() == before and deferred.held_aside() == []
    assert (job.status, job.created) == (ImportStatus.READY, 300)
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 300
    assert indexed_customers() == 300


def test_a_register_with_customers_keeps_its_indexes(defer_every_import):
    make_customer(email="first@shop.test")
    db.session.commit()
    before = index_names()
    during = []
    job = new_job(120)
    run_import(job, dry_run=False, progress=lambda _job: during.append(index_names()))
    assert all(present == before for present in during) and during
    assert job.created == 120


def test_a_run_that_died_gets_its_indexes_back_when_resumed(defer_every_import):
    before = index_names()
    job = new_job(200)
    # What a kill -9 after the first committed batches leaves: the indexes aside, recorded.
    assert deferred.set_aside()
    db.session.commit()
    assert "ix_customers_live_name" not in index_names()
    assert "ix_customers_live_name" in deferred.held_aside()
    job.status, job.rows_done = ImportStatus.PROCESSING, 0
    db.session.commit()
    run_import(job, dry_run=False, resume=True)
    assert index_names() == before and deferred.held_aside() == []
    assert job.created == 200


def test_flask_setup_builds_the_indexes_a_dead_import_left_aside(defer_every_import, runner):
    before = index_names()
    assert deferred.set_aside()
    db.session.commit()
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert index_names() == before and deferred.held_aside() == []


def test_a_failed_run_leaves_no_index_aside(defer_every_import):
    before = index_names()
    job = new_job(300)

    def fail(_job):
        db.session.commit()  # (the batches so far, with the indexes aside, are durable)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_import(job, dry_run=False, progress=fail)
    db.session.refresh(job)
    assert job.status == ImportStatus.FAILED and job.created > 0
    assert index_names() == before and deferred.held_aside() == []


def test_a_second_import_meanwhile_does_not_take_them_aside_again(defer_every_import):
    assert deferred.set_aside()
    assert not deferred.set_aside()  # (already aside: recorded once)
    assert deferred.restore()
    assert not deferred.restore()
