"""The import's write path on its own: driver-speed executemany and the typed undo record."""

import io
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, insert, update

from shopadmin.bulk import execute_many
from shopadmin.customers.choices import CustomerType, Gender
from shopadmin.customers.models import Customer
from shopadmin.database import json_value
from shopadmin.extensions import db
from shopadmin.imports import services
from shopadmin.imports.pipeline import run_import
from shopadmin.imports.plan import CUSTOMERS, ImportOptions, from_json
from shopadmin.imports.undo import undo_changes

from ..factories import make_customer


def test_execute_many_converts_every_type_like_sqlalchemy(app):
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    rows = [{"email": f"p{i}@shop.test", "email_key": f"p{i}@shop.test", "first_name": "Łucja",
             "birth_date": date(1990, 1, i + 1), "gender": Gender.FEMALE, "newsletter": True,
             "customer_type": CustomerType.BUSINESS, "created_at": when, "updated_at": when,
             "version": 1} for i in range(3)]
    assert execute_many(db.session.connection(), insert(CUSTOMERS), rows, cache_key="test") == 3
    customer = db.session.scalar(db.select(Customer).filter_by(email_key="p2@shop.test"))
    assert (customer.birth_date, customer.gender, customer.customer_type) == (
        date(1990, 1, 3), Gender.FEMALE, CustomerType.BUSINESS)
    assert customer.created_at == when and customer.newsletter is True
    assert customer.first_name == "Łucja" and customer.last_name == ""

    changed = execute_many(
        db.session.connection(),
        update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("_id"),
                                CUSTOMERS.c.version == bindparam("_version"))
        .values(phone=bindparam("phone")),
        [{"_id": customer.id, "_version": 1, "phone": "+48 1"},
         {"_id": customer.id, "_version": 7, "phone": "+48 2"}])
    assert changed == 1  # the stale version matched nothing


def test_json_round_trip_of_typed_values():
    for name, value in (("birth_date", date(1980, 2, 29)), ("gender", Gender.OTHER),
                        ("customer_type", CustomerType.PRIVATE), ("newsletter", False),
                        ("billing_country", None), ("first_name", "Żaneta")):
        assert from_json(name, json_value(value)) == value


def test_undo_restores_dates_enums_and_booleans(app):
    customer = make_customer(email="typed@shop.test", birth_date=date(1970, 5, 6),
                             gender=Gender.MALE, newsletter=True)
    content = (b"E-mail,Birth date,Newsletter,First name\n"
               b"typed@shop.test,1971-06-07,no,Changed\n")
    job = services.start_import(io.BytesIO(content), "typed.csv")
    services.save_mapping(job, job.mapping)
    services.save_options(job, ImportOptions())
    db.session.commit()
    run_import(job, dry_run=False)
    assert job.updated == 1
    db.session.refresh(customer)
    assert customer.birth_date == date(1971, 6, 7) and customer.newsletter is False

    undo_changes(db.session, job)
    db.session.refresh(customer)
    assert customer.birth_date == date(1970, 5, 6) and customer.newsletter is True
    assert customer.first_name == "Anna" and customer.gender == Gender.MALE
