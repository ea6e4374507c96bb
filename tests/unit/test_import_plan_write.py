"""The import's plan and write with no app: a plain SQLAlchemy session on the migrated schema
(SQLite, or the PostgreSQL test database), the store settings, the erased addresses and their
secret given as arguments. Outside an app context any use of current_app or db.session fails,
so these tests pass only while plan.py, write.py, bulk.py and numbers.py take all they need."""

import shutil
from pathlib import Path

import pytest
from flask import has_app_context
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from shopadmin.audit import AuditEvent
from shopadmin.customers.forget import address_digest
from shopadmin.customers.models import ConsentEvent, Customer, CustomerGroup
from shopadmin.imports.models import ImportChange, ImportJob, ImportRowResult
from shopadmin.imports.plan import ImportOptions, Planner
from shopadmin.imports.reading import ReadingPlan, read_rows
from shopadmin.imports.write import BatchWriter
from shopadmin.settings.models import Setting
from shopadmin.translation import speaking

from ..conftest import POSTGRES_URL

SECRET = b"the store's secret"
SETTINGS = {"languages": ["de", "en"], "default_language": "de",
            "newsletter_consent_texts": {"en": "Yes to our letters."},
            "customer_number_prefix": "K-", "customer_number_digits": 4,
            "customer_number_next": 1}
HEADINGS = "E-mail,First name,Last name,Country,Newsletter,Groups,Customer number\n"


@pytest.fixture
def session(database_template, tmp_path: Path):
    """A session on a register of its own, with no app anywhere."""
    if POSTGRES_URL:
        url = database_template
    else:
        shutil.copy(database_template, tmp_path / "register.db")
        url = f"sqlite:///{tmp_path / 'register.db'}"
    engine = create_engine(url)
    assert not has_app_context()
    with Session(engine) as session:
        yield session
    if POSTGRES_URL:
        with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in ImportJob.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _parsed(tmp_path: Path, content: str, language: str) -> list:
    path = tmp_path / "customers.csv"
    path.write_text(HEADINGS + content, encoding="utf-8")
    mapping = ["email", "first_name", "last_name", "billing_country", "newsletter", "groups",
               "customer_number"]
    plan = ReadingPlan(str(path), True, "utf-8", ",", mapping, None, False, 0, language)
    with speaking(language):
        return list(read_rows(plan, None))


def _job(session: Session) -> ImportJob:
    job = ImportJob(file_path="customers.csv", original_name="customers.csv")
    session.add(job)
    session.flush()
    return job


def _planner(session: Session, options: ImportOptions, erased: frozenset[str]) -> Planner:
    mapping = ["email", "first_name", "last_name", "billing_country", "newsletter", "groups",
               "customer_number"]
    return Planner(options, HEADINGS.strip().split(","), mapping, session=session,
                   settings=SETTINGS, erased=erased, secret=SECRET)


def test_plan_reads_the_register_through_the_session_it_is_given(session, tmp_path):
    session.execute(insert(Customer.__table__).values(
        email="anna@shop.test", email_key="anna@shop.test", first_name="Anna",
        last_name="Alt", version=3))
    session.execute(insert(CustomerGroup.__table__).values(name="VIP", description=""))
    rows = _parsed(tmp_path, "anna@shop.test,Anna,Neu,DE,,,\n"
                             "gone@shop.test,Gina,Gone,DE,,,\n"
                             "new@shop.test,Nina,New,GB,yes,VIP;Gold,\n"
                             "NEW@shop.test,Nina,Twice,GB,,,\n", "de")
    # (a digest keyed with another secret is no match: the secret given is the one used)
    erased = frozenset({address_digest("gone@shop.test", SECRET),
                        address_digest("new@shop.test", b"another secret")})
    planner = _planner(session, ImportOptions(), erased)
    with speaking("de"):
        update, gone, new, twice = planner.plan(rows)

    assert (update.action, update.values, update.previous, update.version) == (
        "update", {"last_name": "Neu", "billing_country": "DE"},
        {"last_name": "Alt", "billing_country": None}, 3)
    assert gone.action == "reject"
    assert gone.errors[0]["message"].startswith("Ein Kunde mit dieser Adresse wurde")
    # GB reads English, a language of this store (the settings given, not the app's)
    assert (new.action, new.values["language"], new.group_names) == ("create", "en", ["VIP"])
    assert [w["value"] for w in new.warnings] == ["Gold"]  # no such group: named, left out
    assert "Gold" in new.warnings[0]["message"] and "Kundengruppe" in new.warnings[0]["message"]
    assert twice.action == "reject" and "Zeile 4" in twice.errors[0]["message"]
    assert planner.languages == {"en": 1}


def test_write_stores_a_batch_with_its_history_in_the_session_given(session, tmp_path):
    job = _job(session)
    session.execute(insert(Customer.__table__).values(
        email="old@shop.test", email_key="old@shop.test", first_name="Olga", version=1,
        customer_number="K-0001"))
    rows = _parsed(tmp_path, "old@shop.test,Olga,Older,,yes,,\n"
                             "eve@shop.test,Eve,Ever,PL,yes,,\n"
                             "bob@shop.test,Bob,,GB,no,,K-0002\n"
                             "not an address,,,,,,\n", "en")
    options = ImportOptions(number_series=True)
    planner = _planner(session, options, frozenset())
    with speaking("en"):
        outcomes = planner.plan(rows)
        written = BatchWriter(job.id, None, planner).write(outcomes)
    session.commit()

    customers = {c.email_key: c for c in session.scalars(select(Customer))}
    assert sorted(written) == sorted(c.id for c in customers.values())
    # New customers without a number take the series' next free one (K-0001 and K-0002 are
    # held), and the series moves on in the settings table.
    assert customers["eve@shop.test"].customer_number == "K-0003"
    assert customers["bob@shop.test"].customer_number == "K-0002"
    assert session.get(Setting, "customer_number_next").value == 4
    assert customers["old@shop.test"].last_name == "Older"
    assert customers["old@shop.test"].version == 2

    audit = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(a.action, a.object_id) for a in audit] == [
        ("customer.created", customers["eve@shop.test"].id),
        ("customer.created", customers["bob@shop.test"].id),
        ("customer.updated", customers["old@shop.test"].id)]
    assert audit[2].changes["last_name"] == ["", "Older"]
    # Consent in the customer's language where the store writes it, else the store's default:
    # Olga (no language stored) and Eve (Polish, not a store language) read German, shipped.
    consent = {e.customer_id: e for e in session.scalars(select(ConsentEvent))}
    assert {e.wording_language for e in consent.values()} == {"de"}
    assert consent[customers["eve@shop.test"].id].wording.startswith("Der Kunde")
    assert customers["bob@shop.test"].id not in consent  # a new customer who said no

    changes = session.scalars(select(ImportChange)).all()
    created = next(c for c in changes if c.customer_id is None)
    assert sorted(created.created_ids) == sorted(
        customers[k].id for k in ("eve@shop.test", "bob@shop.test"))
    problems = session.scalars(select(ImportRowResult).order_by(ImportRowResult.row)).all()
    assert [(p.row, p.rejected) for p in problems] == [(4, False), (5, True)]
    assert problems[0].customer_id == customers["bob@shop.test"].id  # its first name: warned


def test_english_consent_uses_the_stores_own_text(session, tmp_path):
    job = _job(session)
    rows = _parsed(tmp_path, "liz@shop.test,Liz,Lane,GB,yes,,\n", "en")
    planner = _planner(session, ImportOptions(language="en"), frozenset())
    BatchWriter(job.id, None, planner).write(planner.plan(rows))
    session.commit()
    event = session.scalars(select(ConsentEvent)).one()
    assert (event.wording_language, event.wording) == ("en", "Yes to our letters.")
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
