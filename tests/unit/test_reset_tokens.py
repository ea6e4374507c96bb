"""Reset tokens on a controlled clock: hash only, expiry, single use, newer link, new password."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from shopadmin.account import services, tokens
from shopadmin.account.models import PasswordResetToken
from shopadmin.extensions import db
from shopadmin.settings.services import update_settings

from ..factories import make_customer

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_only_the_hash_is_stored_and_the_link_uses_the_shop_url(app):
    customer = make_customer(email="anna@example.com")
    issued = tokens.issue_token(customer, purpose=tokens.STAFF, language="pl", now=T0)
    db.session.commit()
    stored = db.session.scalars(db.select(PasswordResetToken)).one()
    assert stored.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in str([getattr(stored, c.key) for c in stored.__table__.columns])
    assert tokens.reset_link(issued.token) == f"http://shop.test/account/reset/{issued.token}"


def test_staff_links_live_72_hours_and_forgot_links_2_by_default(app):
    customer = make_customer()
    staff = tokens.issue_token(customer, purpose=tokens.STAFF, language="de", now=T0)
    assert tokens.find_usable(staff.token, now=T0 + timedelta(hours=71, minutes=59))
    assert tokens.find_usable(staff.token, now=T0 + timedelta(hours=72)) is None
    forgot = tokens.issue_token(make_customer(), purpose=tokens.FORGOT, language="de", now=T0)
    assert tokens.find_usable(forgot.token, now=T0 + timedelta(hours=1, minutes=59))
    assert tokens.find_usable(forgot.token, now=T0 + timedelta(hours=2)) is None
    with pytest.raises(services.LinkNotUsable):
        services.set_password_with_link(forgot.token, "a quiet orchard in May",
                                        now=T0 + timedelta(hours=3))


def test_the_lifetime_follows_the_store_settings(app):
    update_settings({"reset_link_hours": 5})
    issued = tokens.issue_token(make_customer(), purpose=tokens.STAFF, language="fr", now=T0)
    assert issued.row.expires_at == T0 + timedelta(hours=5)


def test_a_link_works_once_and_a_newer_link_replaces_it(app):
    customer = make_customer()
    first = tokens.issue_token(customer, purpose=tokens.STAFF, language="en", now=T0)
    second = tokens.issue_token(customer, purpose=tokens.STAFF, language="en", now=T0)
    assert tokens.find_usable(first.token, now=T0) is None
    services.set_password_with_link(second.token, "a quiet orchard in May", now=T0)
    db.session.commit()
    assert customer.password_hash
    with pytest.raises(services.LinkNotUsable):
        services.set_password_with_link(second.token, "another quiet orchard", now=T0)


def test_a_password_change_by_another_path_ends_open_links(app):
    customer = make_customer()
    issued = tokens.issue_token(customer, purpose=tokens.STAFF, language="en", now=T0)
    customer.password_hash = "changed elsewhere"
    db.session.flush()
    assert tokens.find_usable(issued.token, now=T0) is None


def test_unknown_and_absurd_tokens_are_refused(app):
    assert tokens.find_usable("nope") is None
    assert tokens.find_usable("x" * 5000) is None
    assert tokens.find_usable(None) is None


def test_two_simultaneous_uses_of_one_link_exactly_one_wins(app):
    customer = make_customer()
    issued = tokens.issue_token(customer, purpose=tokens.STAFF, language="en")
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = []

    def use(password):
        with app.app_context():
            barrier.wait()
            try:
                services.set_password_with_link(issued.token, password)
                db.session.commit()
                outcomes.append("won")
            except services.LinkNotUsable:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use, args=(p,))
               for p in ("first quiet orchard", "second quiet orchard")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused", "won"]
    db.session.expire_all()
    assert db.session.scalars(db.select(PasswordResetToken)).one().used_at is not None


def test_a_new_e_mail_address_ends_open_links_by_any_path(app):
    customer = make_customer(email="old@example.com")
    issued = tokens.issue_token(customer, purpose=tokens.STAFF, language="en", now=T0)
    customer.email, customer.email_key = "Old@example.com", "old@example.com"
    db.session.flush()
    assert tokens.find_usable(issued.token, now=T0)  # the same mailbox, written otherwise
    db.session.execute(db.update(type(customer)).where(type(customer).id == customer.id)
                       .values(email="new@example.com", email_key="new@example.com"))
    db.session.expire_all()
    assert tokens.find_usable(issued.token, now=T0) is None


def test_links_issued_together_end_each_customers_earlier_link(app):
    anna, ben = make_customer(), make_customer()
    earlier = tokens.issue_token(anna, purpose=tokens.STAFF, language="de", now=T0)
    issued = tokens.issue_tokens([(anna, "de"), (ben, "pl"), (ben, "pl")], purpose=tokens.STAFF,
                                 now=T0 + timedelta(minutes=1))
    db.session.commit()
    later = T0 + timedelta(minutes=2)
    assert tokens.find_usable(earlier.token, now=later) is None
    assert tokens.find_usable(issued[0].token, now=later) is not None
    assert tokens.find_usable(issued[1].token, now=later) is None  # ben's later link is open
    assert tokens.find_usable(issued[2].token, now=later).language == "pl"
    assert {link.row.expires_at for link in issued} == {T0 + timedelta(minutes=1, hours=72)}
    assert len({link.token for link in issued}) == 3
