"""The store's number series gives every customer created without a number its next free one:
on the customer form, through the storefront API and in the demo data; two colleagues creating
customers at the same moment never get the same number (on both databases)."""

import threading

from sqlalchemy import func, select

from shopadmin.customers import demo
from shopadmin.customers.models import Customer
from shopadmin.customers.services import create_customer
from shopadmin.extensions import db
from shopadmin.settings.services import get_setting, update_settings

from ..conftest import csrf_token
from ..factories import make_customer
from .test_forget_customers import api


def series(prefix="K-", digits=4, following=7) -> None:
    update_settings({"customer_number_prefix": prefix, "customer_number_digits": digits,
                     "customer_number_next": following})
    db.session.commit()


def create_on_form(client, email: str, number: str = ""):
    return client.post("/customers/new", data={
        "first_name": "Jan", "last_name": "Nowak", "email": email, "customer_number": number,
        "customer_type": "private", "version": "0",
        "csrf_token": csrf_token(client, "/customers/new")})


def number_of(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Customer.customer_number)
                             .where(Customer.email_key == email))


def test_the_form_gives_the_next_free_number_and_keeps_a_typed_one(client, login_as):
    login_as("staff")
    series()
    make_customer(customer_number="K-0007")  # given by hand earlier: passed over
    assert create_on_form(client, "jan@laden.test").status_code == 302
    assert number_of("jan@laden.test") == "K-0008"
    assert create_on_form(client, "eva@laden.test", "EIGEN-1").status_code == 302
    assert number_of("eva@laden.test") == "EIGEN-1"
    assert create_on_form(client, "ola@laden.test").status_code == 302
    assert number_of("ola@laden.test") == "K-0009"
    assert get_setting("customer_number_next") == 10
    page = client.get("/customers/?q=K-0009").get_data(as_text=True)
    assert "ola@laden.test" in page  # found by its number at once


def test_the_storefront_api_gives_numbers_to_signups_and_subscribers(client):
    series(prefix="", digits=6, following=41)
    assert api(client, "/customers", {"email": "signup@laden.test"}).status_code == 201
    assert api(client, "/newsletter", {"email": "news@laden.test",
                                       "subscribed": True}).status_code == 201  # a new entry
    assert number_of("signup@laden.test") == "000041"
    assert number_of("news@laden.test") == "000042"


def test_demo_customers_take_their_numbers_from_the_series(app):
    series(prefix="D", digits=3, following=1)
    make_customer(customer_number="D002")
    demo.generate_customers(4)
    numbers = db.session.scalars(select(Customer.customer_number).order_by(Customer.id)).all()
    assert numbers == ["D002", "D001", "D003", "D004", "D005"]
    assert get_setting("customer_number_next") == 6


def test_two_colleagues_creating_at_once_never_get_the_same_number(app):
    series(prefix="N", digits=5, following=1)
    each, colleagues = 8, 2
    start = threading.Barrier(colleagues)
    errors: list[BaseException] = []

    def colleague(name: str) -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                for n in range(each):
                    create_customer({"first_name": name, "last_name": f"Nr {n}",
                                     "email": f"{name}{n}@laden.test",
                                     "customer_type": "private"}, actor=None)
                    db.session.commit()
            except BaseException as error:  # noqa: BLE001  (reported by the test)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=colleague, args=(f"kollege{i}",))
               for i in range(colleagues)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    numbers = db.session.scalars(select(Customer.customer_number)).all()
    assert len(numbers) == each * colleagues
    assert sorted(numbers) == [f"N{n:05d}" for n in range(1, each * colleagues + 1)]
    assert db.session.scalar(select(func.count(func.distinct(Customer.customer_number)))) == 16
    assert get_setting("customer_number_next") == each * colleagues + 1


def test_a_colleague_creating_while_another_has_not_committed_waits_for_the_next_number(app):
    """A fresh store (the series not yet stored): one colleague has taken a number and not yet
    committed when the other creates; the other waits and gets the following number."""
    holds, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with app.app_context():
            try:
                create_customer({"last_name": "Erste", "email": "erste@laden.test",
                                 "customer_type": "private"}, actor=None)
                holds.set()
                done.wait(0.5)  # the other colleague's save comes in meanwhile
                db.session.commit()
            except BaseException as error:  # noqa: BLE001  (reported by the test)
                errors.append(error)
            finally:
                holds.set()
                db.session.remove()

    def second() -> None:
        with app.app_context():
            try:
                holds.wait(10)
                create_customer({"last_name": "Zweite", "email": "zweite@laden.test",
                                 "customer_type": "private"}, actor=None)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001  (reported by the test)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert (number_of("erste@laden.test"), number_of("zweite@laden.test")) == ("00001", "00002")
