"""In a real browser that speaks American English, date fields follow the staff member's
language: German pages read and write 03.04.1990, French ones 03/04/1990."""

import re

import pytest

from shopadmin.customers.models import Customer
from shopadmin.extensions import db

from ..conftest import PASSWORD
from ..factories import make_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def american_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_date_fields_in_german_and_french(american_page, app):
    page = american_page
    staff = make_staff("admin", language="de")
    page.goto("/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#figure-customers")

    page.goto("/customers/new")
    field = page.locator("#birth_date")
    assert field.get_attribute("type") == "text"
    assert field.get_attribute("placeholder") == "TT.MM.JJJJ"
    page.fill("#first_name", "Zoé")
    page.fill("#last_name", "Müller")
    page.fill("#email", "zoe@exemple.fr")
    page.fill("#birth_date", "03.04.1990")
    page.locator("#customer-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/customers/\d+$"))
    assert page.input_value("#birth_date") == "03.04.1990"
    customer_url = page.url

    page.fill("#birth_date", "31.04.1990")
    page.locator("#customer-form button[type=submit]").click()
    assert "„31.04.1990“ kann nicht als Datum gelesen werden" in page.inner_text("#customer-form")
    assert page.input_value("#birth_date") == "31.04.1990"

    page.goto("/orders/")
    page.fill("#date_from", "01.03.2026")
    page.locator("#order-filters button[type=submit]").click()
    assert "date_from=01.03.2026" in page.url
    assert page.input_value("#date_from") == "01.03.2026"

    db.session.get(type(staff), staff.id).language = "fr"
    db.session.commit()
    page.goto(customer_url)
    assert page.get_attribute("#birth_date", "placeholder") == "jj/mm/aaaa"
    assert page.input_value("#birth_date") == "03/04/1990"
    page.fill("#birth_date", "17/05/1985")
    page.locator("#customer-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.input_value("#birth_date") == "17/05/1985"
    db.session.expire_all()
    customer = db.session.query(Customer).one()
    assert customer.birth_date.isoformat() == "1985-05-17"
