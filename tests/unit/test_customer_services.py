"""The rules of creating and changing customers."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shopadmin.audit import AuditEvent
from shopadmin.customers.choices import CustomerType
from shopadmin.customers.models import ConsentEvent
from shopadmin.customers.services import (
    EditConflict,
    create_customer,
    set_newsletter,
    update_customer,
)
from shopadmin.domain import DomainError
from shopadmin.extensions import db

from ..factories import make_customer, make_staff

BASE = {"first_name": "Zoé", "last_name": "Müller", "email": "zoe@example.fr"}


def events_of(customer):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "customer", AuditEvent.object_id == customer.id)
        .order_by(AuditEvent.id)).all()


def test_create_normalises_and_audits(app):
    admin = make_staff("admin")
    customer = create_customer({**BASE, "email": " Zoe@Example.FR "}, actor=admin)
    db.session.commit()
    assert customer.email_key == "zoe@example.fr"
    assert customer.created_by_id == admin.id
    [event] = events_of(customer)
    assert event.action == "customer.created"
    assert event.changes["last_name"] == [None, "Müller"]


def test_duplicate_email_is_refused_case_insensitively(app):
    make_customer(email="anna@shop.test")
    with pytest.raises(DomainError) as error:
        create_customer({**BASE, "email": "ANNA@shop.test"}, actor=make_staff("admin"))
    assert error.value.field == "email"


def test_duplicate_customer_number_is_refused(app):
    make_customer(customer_number="K-100")
    with pytest.raises(DomainError) as error:
        create_customer({**BASE, "customer_number": "K-100"}, actor=make_staff("admin"))
    assert error.value.field == "customer_number"


def test_business_vat_number_is_checked_for_the_billing_country(app):
    admin = make_staff("admin")
    data = {**BASE, "customer_type": "business", "company_name": "Chez Zoé SARL",
            "billing_country": "FR", "vat_number": "FR 40 303 265 045"}
    customer = create_customer(data, actor=admin)
    assert customer.customer_type == CustomerType.BUSINESS
    assert customer.vat_number == "FR40303265045"
    with pytest.raises(DomainError) as error:
        create_customer({**data, "email": "x@example.fr", "vat_number": "FR41303265045"},
                        actor=admin)
    assert error.value.field == "vat_number"


def test_business_needs_a_company_name(app):
    with pytest.raises(DomainError) as error:
        create_customer({**BASE, "customer_type": "business", "company_name": ""},
                        actor=make_staff("admin"))
    assert error.value.field == "company_name"


def test_birth_date_in_the_future_is_refused_at_its_field(app):
    with pytest.raises(DomainError) as error:
        create_customer({**BASE, "birth_date": date.today() + timedelta(days=3)},
                        actor=make_staff("admin"))
    assert error.value.field == "birth_date"


def test_a_customer_may_speak_any_language_but_not_a_made_up_one(app):
    customer = create_customer({**BASE, "language": "nl-BE"}, actor=make_staff("admin"))
    assert customer.language == "nl"
    with pytest.raises(DomainError) as error:
        create_customer({**BASE, "email": "x@shop.test", "language": "xx"},
                        actor=make_staff("admin"))
    assert error.value.field == "language"


def test_update_records_old_and_new_values(app):
    admin = make_staff("admin")
    customer = make_customer(first_name="Anna", billing_city="Lodz")
    changes = update_customer(customer, {"billing_city": "Łódź", "first_name": "Anna"},
                              actor=admin, expected_version=customer.version)
    db.session.commit()
    assert changes == {"billing_city": ["Lodz", "Łódź"]}
    assert events_of(customer)[-1].changes == {"billing_city": ["Lodz", "Łódź"]}
    assert customer.updated_by_id == admin.id


def test_stale_version_is_refused_and_nothing_is_overwritten(app):
    first, second = make_staff("admin"), make_staff("admin")
    customer = make_customer(billing_city="Berlin")
    opened_at = customer.version
    update_customer(customer, {"billing_city": "Hamburg"}, actor=first,
                    expected_version=opened_at)
    db.session.commit()
    with pytest.raises(EditConflict) as conflict:
        update_customer(customer, {"billing_city": "München"}, actor=second,
                        expected_version=opened_at)
    assert conflict.value.changed == ["billing_city"]
    db.session.rollback()
    assert customer.billing_city == "Hamburg"


def test_only_admins_approve(app):
    staff = make_staff("staff")
    customer = make_customer(approved=False)
    with pytest.raises(DomainError) as refused:
        update_customer(customer, {"approved": True}, actor=staff,
                        expected_version=customer.version)
    assert refused.value.field == "approved"
    db.session.rollback()
    assert not customer.approved
    changes = update_customer(customer, {"approved": True}, actor=make_staff("admin"),
                              expected_version=customer.version)
    assert changes["approved"] == [False, True] and customer.approved


def test_consent_history_keeps_source_actor_and_wording(app):
    staff = make_staff("staff")
    customer = make_customer()
    assert set_newsletter(customer, True, actor=staff, source="staff")
    assert not set_newsletter(customer, True, actor=staff, source="staff")
    set_newsletter(customer, False, actor=None, source="storefront", wording="Shop wording")
    db.session.commit()
    events = db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.customer_id == customer.id).order_by(ConsentEvent.id)).all()
    assert [(e.subscribed, e.source.value, e.actor_id) for e in events] == [
        (True, "staff", staff.id), (False, "storefront", None)]
    assert events[0].wording == "The customer agrees to receive marketing e-mails."
    assert events[1].wording == "Shop wording"


def test_newsletter_change_through_the_form_writes_consent(app):
    staff = make_staff("staff")
    customer = make_customer()
    update_customer(customer, {"newsletter": True}, actor=staff,
                    expected_version=customer.version)
    db.session.commit()
    assert customer.newsletter
    assert db.session.scalar(select(ConsentEvent.subscribed).where(
        ConsentEvent.customer_id == customer.id))
