"""Dates, numbers and country lists on the pages, date fields that read the interface
language's days, and dates in mails, in each language."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from shopadmin.account.models import PasswordResetToken
from shopadmin.customers.models import Customer
from shopadmin.extensions import db, huey
from shopadmin.formats import format_mail_moment
from shopadmin.notifications.models import OutboxMessage
from shopadmin.settings.services import update_settings

from ..conftest import csrf_token
from ..forms import form_values
from .test_orders_pages import make_order

MOMENT = {"de": r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", "fr": r"\d\d/\d\d/\d{4} \d\d:\d\d",
          "pl": r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", "en": r"\d\d/\d\d/\d{4}, \d\d:\d\d"}
BAD_DAY = {"de": "TT.MM.JJJJ", "fr": "jj/mm/aaaa", "pl": "dd.mm.rrrr", "en": "dd/mm/yyyy"}


def add_customers(count: int) -> None:
    db.session.execute(Customer.__table__.insert(), [
        {"first_name": "K", "last_name": f"Test {i}", "email": f"n{i}@shop.test",
         "email_key": f"n{i}@shop.test"} for i in range(count)])
    db.session.commit()


def speak(user, language: str) -> None:
    user.language = language
    db.session.commit()


def test_pages_write_moments_in_one_style_on_the_store_clock(client, login_as):
    user = login_as("admin")
    customer = Customer(first_name="Ola", last_name="Nowak", email="o@shop.test",
                        email_key="o@shop.test", created_at=datetime(2026, 3, 2, 23, 30,
                                                                      tzinfo=UTC))
    db.session.add(customer)
    db.session.commit()
    make_order("A-1", customer, day=2)
    for language, created in [("de", "03.03.2026, 00:30"), ("fr", "03/03/2026 00:30"),
                              ("pl", "03.03.2026, 00:30"), ("en", "03/03/2026, 00:30")]:
        speak(user, language)
        page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
        assert created in page  # 23:30 UTC is past midnight in Berlin
        orders = client.get("/orders/").get_data(as_text=True)
        assert re.search(MOMENT[language], orders)
        assert not re.search(r"\d\d:\d\d:\d\d", orders)  # no seconds in lists


def test_counts_follow_cldr_grouping(client, login_as):
    user = login_as("admin")
    add_customers(2010)
    for language, count_text, figure in [
            ("pl", "2010 klientów", "2010"), ("de", "2.010 Kunden", "2.010"),
            ("fr", "2\u202f010 clients", "2\u202f010"), ("en", "2,010 customers", "2,010")]:
        speak(user, language)
        assert count_text in client.get("/customers/").get_data(as_text=True)
        assert figure in client.get("/").get_data(as_text=True)  # the dashboard's figure


def test_the_birth_date_field_reads_and_writes_the_languages_day(client, login_as):
    user = login_as("admin")
    for number, (language, typed) in enumerate([("de", "03.04.1990"), ("fr", "03/04/1990"),
                                                ("pl", "03.04.1990"), ("en", "03/04/1990")]):
        speak(user, language)
        page = client.get("/customers/new").get_data(as_text=True)
        assert f'placeholder="{BAD_DAY[language]}"' in page and 'type="date"' not in page
        form = form_values(page)
        form.update({"first_name": "Zoé", "last_name": "Roux", "email": f"z{number}@shop.test",
                     "birth_date": typed})
        response = client.post("/customers/new", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)
        customer = db.session.scalar(select(Customer).where(
            Customer.email == f"z{number}@shop.test"))
        assert customer.birth_date == date(1990, 4, 3)
        shown = form_values(client.get(response.headers["Location"]).get_data(as_text=True))
        assert shown["birth_date"] == typed


def test_a_day_that_cannot_be_read_is_named_at_its_field(client, login_as):
    user = login_as("admin")
    for language in ("de", "fr", "pl", "en"):
        speak(user, language)
        form = form_values(client.get("/customers/new").get_data(as_text=True))
        form.update({"first_name": "Zoé", "last_name": "Roux", "email": "z@shop.test",
                     "birth_date": "31.02.1990"})
        response = client.post("/customers/new", data=form)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "31.02.1990" in page and BAD_DAY[language] in page
        assert db.session.scalar(select(Customer)) is None


def test_list_filters_read_days_of_the_interface_language(client, login_as):
    login_as("admin", language="de")
    db.session.add_all([
        Customer(first_name="Alt", last_name="A", email="a@shop.test", email_key="a@shop.test",
                 created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC)),  # 1 March, 23:30 here
        Customer(first_name="Neu", last_name="B", email="b@shop.test", email_key="b@shop.test",
                 created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))])  # 2 March, 00:30
    db.session.commit()
    page = client.get("/customers/?created_from=02.03.2026").get_data(as_text=True)
    assert "b@shop.test" in page and "a@shop.test" not in page
    assert 'value="02.03.2026"' in page
    page = client.get("/customers/?created_to=01.03.2026").get_data(as_text=True)
    assert "a@shop.test" in page and "b@shop.test" not in page
    # ISO, as older bookmarks have it, is read and shown the German way.
    page = client.get("/customers/?created_from=2026-03-02").get_data(as_text=True)
    assert 'value="02.03.2026"' in page and "a@shop.test" not in page
    response = client.get("/customers/?created_from=30.02.2026")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "„30.02.2026“ kann nicht als Datum gelesen werden" in page
    assert "a@shop.test" in page and "b@shop.test" in page  # filters nothing


def test_order_date_filters_in_french(client, login_as):
    login_as("admin", language="fr")
    make_order("A-1", day=1)
    make_order("A-2", day=5)
    page = client.get("/orders/?date_from=03/03/2026").get_data(as_text=True)
    assert "A-2" in page and "A-1" not in page and 'value="03/03/2026"' in page
    page = client.get("/orders/?date_to=2026-03-13").get_data(as_text=True)
    assert 'value="13/03/2026"' in page
    response = client.get("/orders/?date_from=3 mars")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "« 3 mars » ne peut pas être lu comme une date" in page and "jj/mm/aaaa" in page
    assert "A-1" in page and "A-2" in page


@pytest.mark.parametrize(("language", "first", "before", "after"), [
    ("pl", "PL", "Luksemburg", "Łotwa"), ("de", "DE", "Afghanistan", "Ägypten"),
    ("fr", "FR", "Égypte", "Équateur")])
def test_country_lists_sort_as_the_language_with_the_store_first(client, login_as, language,
                                                                 first, before, after):
    update_settings({"store_country": first, "default_language": language})
    db.session.commit()
    login_as("admin", language=language)
    page = client.get("/customers/new").get_data(as_text=True)
    select_html = page[page.index('name="billing_country"'):]
    select_html = select_html[:select_html.index("</select>")]
    codes = re.findall(r'<option[^>]*value="([A-Z]{2})"', select_html)
    names = re.findall(r'<option[^>]*value="[A-Z]{2}"[^>]*>([^<]+)<', select_html)
    assert codes[0] == first
    assert len(codes) == 249 and not {"EU", "EZ", "UN", "QO", "XA", "XB"} & set(codes)
    assert names.index(before) < names.index(after)
    listing = client.get("/customers/").get_data(as_text=True)
    assert re.search(rf'<option value="{first}"', listing)


@pytest.mark.parametrize(("language", "words"), [
    ("de", r"bis zum \d{1,2}\. \w+ \d{4}, \d\d:\d\d Uhr"),
    ("fr", r"jusqu[’']au \d{1,2}(er)? \w+ \d{4} à \d{1,2} h \d\d"),
    ("pl", r"do \d{1,2} \w+ \d{4} r\., godz\. \d\d:\d\d"),
    ("en", r"until \d{1,2} \w+ \d{4} at \d\d:\d\d")])
def test_mails_write_the_link_end_as_the_language_does(app, client, login_as, language, words):
    app.config["MAIL_SERVER"] = ""
    login_as("admin")
    customer = Customer(first_name="Ola", last_name="N", email="m@shop.test",
                        email_key="m@shop.test", language=language)
    db.session.add(customer)
    db.session.commit()
    url = f"/customers/{customer.id}"
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    message = db.session.scalar(select(OutboxMessage))
    token = db.session.scalar(select(PasswordResetToken))
    written = format_mail_moment(token.expires_at, language)
    assert written in message.text_body and written in message.html_body
    assert re.search(words, message.text_body), message.text_body


@pytest.mark.parametrize(("country", "fmt"), [("DE", "csv_semicolon"), ("PL", "csv_semicolon"),
                                              ("FR", "csv_semicolon"), ("GB", "csv")])
def test_exports_default_to_the_csv_the_stores_excel_opens(client, login_as, country, fmt):
    update_settings({"store_country": country})
    db.session.commit()
    login_as("admin")
    form = form_values(client.get("/exports/").get_data(as_text=True))
    assert form["format"] == fmt
