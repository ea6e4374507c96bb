"""Issue 14's controls through the pages: checkbox pickers grouped by section with distinct
labels, the grouped import mapping, the import preview's new customers and counters, the
date-order default, and the dashboard's figures and links."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from shopadmin.customers.models import CustomerGroup
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportStatus
from shopadmin.notifications.models import MailLog, MailStatus
from shopadmin.orders.models import Order

from ..conftest import csrf_token
from ..factories import make_customer
from .test_transfer_import import csv_file, preview, upload

LANGUAGES = ("de", "fr", "en", "pl")


def checkbox_labels(page: str, name: str) -> list[str]:
    """The labels of the checkboxes named `name`, in page order."""
    ids = re.findall(rf'<input[^>]*name="{name}"[^>]*id="([^"]+)"|'
                     rf'<input[^>]*id="([^"]+)"[^>]*name="{name}"', page)
    labels = []
    for pair in ids:
        found = re.search(rf'<label[^>]*for="{pair[0] or pair[1]}"[^>]*>(.*?)</label>', page, re.S)
        labels.append(unescape(found.group(1)).strip())
    return labels


def test_no_multiple_choice_is_a_ctrl_click_list(client, login_as):
    login_as("admin")
    assert "None to choose from yet." in client.get("/customers/new").get_data(as_text=True)
    db.session.add(CustomerGroup(name="Stammkunden"))
    db.session.commit()
    for url in ("/customers/new", "/exports/", "/exports/?kind=orders", "/settings/",
                "/customers/"):
        page = client.get(url).get_data(as_text=True)
        assert "multiple" not in re.findall(r"<select[^>]*>", page).__str__(), url
    assert checkbox_labels(client.get("/customers/new").get_data(as_text=True),
                           "groups") == ["Stammkunden"]
    languages = checkbox_labels(client.get("/settings/").get_data(as_text=True), "languages")
    assert len(languages) == 4


@pytest.mark.parametrize("language", LANGUAGES)
def test_column_pickers_group_sections_and_never_repeat_a_label(client, login_as, language):
    login_as("admin", language=language)
    for url in ("/exports/", "/customers/", "/exports/?kind=orders"):
        page = client.get(url).get_data(as_text=True)
        labels = checkbox_labels(page, "columns")
        assert len(labels) > 20, url
        assert len(labels) == len(set(labels)), (url, sorted(labels))
    orders = client.get("/exports/?kind=orders").get_data(as_text=True)
    orders = orders[orders.index('id="columns"'):]
    assert orders.index('value="number"') < orders.index('value="billing_city"') < \
        orders.index('value="shipping_city"') < orders.index('value="sku"')
    assert len(re.findall(r'class="small fw-semibold', orders)) == 3  # two addresses, lines
    page = client.get("/customers/").get_data(as_text=True)
    picker = page[page.index('id="column-picker"'):]
    # The shipping country comes under the shipping address's heading, after the billing one.
    billing = {"de": "Rechnungsadresse", "fr": "Adresse de facturation", "en": "Billing address",
               "pl": "Adres rozliczeniowy"}[language]
    assert billing in picker
    assert picker.index('value="billing_country"') < picker.index('value="shipping_country"')


def test_ticked_groups_are_saved_on_the_customer(client, login_as):
    login_as("admin")
    regulars, wholesale = CustomerGroup(name="Regulars"), CustomerGroup(name="Wholesale")
    db.session.add_all([regulars, wholesale])
    db.session.commit()
    response = client.post("/customers/new", data={
        "csrf_token": csrf_token(client, "/customers/new"), "version": "0",
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@shop.test",
        "customer_type": "private", "groups": [str(wholesale.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*value="{wholesale.id}"|'
                     rf'<input[^>]*value="{wholesale.id}"[^>]*checked', page)
    assert not re.search(rf'<input[^>]*value="{regulars.id}"[^>]*checked', page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_mapping_groups_fields_under_their_addresses(client, login_as, language):
    login_as("staff", language=language)
    import_id = upload(client, csv_file("E-mail;Land;Lieferland", "a@shop.test;DE;AT"))
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    select = page[page.index('name="column-0"'):page.index("</select>", page.index(
        'name="column-0"'))]
    headings = re.findall(r'<optgroup label="([^"]+)"', select)
    assert len(headings) >= 5
    labels = [unescape(label) for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]
    assert len(labels) == len(set(labels)), sorted(labels)


def test_the_preview_says_what_will_happen_and_shows_new_customers_as_stored(
        client, login_as, run_jobs):
    login_as("staff", language="de")
    make_customer(email="known@shop.test", first_name="Old")
    import_id = upload(client, csv_file(
        "Vorname;Nachname;E-Mail;Newsletter;Land;Geburtsdatum",
        "Jan;Nowak;jan@shop.test;ja;Polen;24.12.1990",
        "New;Name;known@shop.test;;;"))
    job = preview(client, run_jobs, import_id, date_order="dmy")
    assert (job.preview["created"], job.preview["updated"]) == (1, 1)
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Neue Kunden" in page and "Angelegt<" not in page
    table = page[page.index('id="preview-new-customers"'):]
    table = table[:table.index("</table>")]
    # As stored, not as typed: the country and the date read, the yes-no a boolean.
    assert "jan@shop.test" in table and "Polen" in table and "Ja" in table
    assert "24.12.1990" in table
    assert "known@shop.test" not in table  # an update is a change, not a new customer
    assert db.session.get(ImportJob, import_id).status == ImportStatus.PREVIEWED


@pytest.mark.parametrize(("language", "country", "order"), [
    ("de", "DE", "dmy"), ("fr", "FR", "dmy"), ("pl", "PL", "dmy"), ("en", "US", "mdy"),
    ("en", "GB", "dmy"), ("de", "US", "dmy")])
def test_the_date_order_defaults_from_the_language(client, login_as, language, country, order):
    from shopadmin.settings.services import update_settings

    login_as("staff", language=language)
    update_settings({"store_country": country})
    db.session.commit()
    import_id = upload(client, csv_file("E-mail;Geburtsdatum", "a@shop.test;03/04/2024"))
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{order}"|<option value="{order}" selected', page)


def test_the_dashboard_counts_what_waits_and_links_to_it(client, login_as, run_jobs):
    login_as("admin")
    make_customer(approved=False)
    make_customer(approved=True)
    old = make_customer(approved=True)
    old.created_at = utcnow() - timedelta(days=30)
    db.session.add(Order(number="W-1", currency="EUR", subtotal=Decimal(1), total=Decimal(1),
                         email="g@shop.test", email_key="g@shop.test"))
    db.session.add(MailLog(recipient="x@shop.test", template_key="account_password",
                           language="en", status=MailStatus.FAILED))
    db.session.commit()
    stuck = upload(client, csv_file("E-mail", "a@shop.test"), name="waiting.csv")

    page = client.get("/").get_data(as_text=True)
    figures = dict(re.findall(r'id="figure-([a-z_]+)">([^<]+)<', page))
    assert figures == {"waiting_for_approval": "1", "new_this_week": "2",
                       "orders_this_week": "1", "failed_mails": "1", "customers": "3"}
    links = dict(re.findall(r'href="([^"]+)" id="link-([a-z_]+)"', page))
    links = {key: unescape(url) for url, key in links.items()}
    assert links["waiting_for_approval"] == "/customers/?approval=waiting"
    assert links["failed_mails"] == "/mails/?status=failed"
    assert links["new_this_week"].startswith("/customers/?created_from=")
    assert links["orders_this_week"].startswith("/orders/?date_from=")
    assert f'href="/imports/{stuck}"' in page and "waiting.csv" in page
    # Each link leads to what it counted.
    listed = client.get(links["waiting_for_approval"]).get_data(as_text=True)
    assert '<div class="me-auto" id="match-count">1 customer</div>' in listed
    listed = client.get(links["new_this_week"]).get_data(as_text=True)
    assert '<div class="me-auto" id="match-count">2 customers</div>' in listed
    assert "x@shop.test" in client.get(links["failed_mails"]).get_data(as_text=True)
    assert "W-1" in client.get(links["orders_this_week"]).get_data(as_text=True)


def test_the_street_split_option_splits_and_warns_where_it_cannot(client, login_as, run_jobs):
    from shopadmin.customers.models import Customer
    from shopadmin.imports.models import ImportRowResult

    from .test_transfer_import import apply

    login_as("staff")
    import_id = upload(client, csv_file(
        "E-mail;Street;Postcode",
        "a@shop.test;Hauptstraße 12a;10115",
        "b@shop.test;12 rue de la Paix;75002",
        "c@shop.test;Postfach;10117"))
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'name="split_street"' in page
    preview(client, run_jobs, import_id, split_street="y")
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    table = page[page.index('id="preview-new-customers"'):]
    assert "Hauptstraße" in table[:table.index("</table>")]
    apply(client, run_jobs, import_id)
    stored = {c.email: (c.billing_address1, c.billing_house_number, c.billing_house_number_ext)
              for c in db.session.scalars(db.select(Customer))}
    assert stored == {"a@shop.test": ("Hauptstraße", "12", "a"),
                      "b@shop.test": ("rue de la Paix", "12", ""),
                      "c@shop.test": ("Postfach", "", "")}  # kept whole, nothing lost
    results = db.session.scalars(db.select(ImportRowResult).filter_by(
        import_id=import_id)).all()
    assert [(r.row, r.rejected, [w["column"] for w in r.warnings]) for r in results] == [
        (4, False, ["Street"])]
    assert "No house number found" in results[0].warnings[0]["message"]


def test_without_the_option_the_street_stays_whole(client, login_as, run_jobs):
    from shopadmin.customers.models import Customer

    from .test_transfer_import import apply

    login_as("staff")
    import_id = upload(client, csv_file("E-mail;Street", "a@shop.test;Hauptstraße 12a"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    customer = db.session.scalar(db.select(Customer))
    assert (customer.billing_address1, customer.billing_house_number) == ("Hauptstraße 12a", "")


def test_an_abandoned_upload_is_discarded_its_file_removed_and_recorded(
        app, client, login_as, run_jobs):
    from shopadmin.audit import AuditEvent
    from shopadmin.imports.job_file import upload_path
    from shopadmin.imports.models import ImportRowResult

    user = login_as("staff", name="Ewa Staff")
    import_id = upload(client, csv_file("E-mail", "a@shop.test", "not-an-address"),
                       name="left-behind.csv")
    preview(client, run_jobs, import_id)
    job = db.session.get(ImportJob, import_id)
    path = upload_path(job)
    assert path.exists()
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert f'action="/imports/{import_id}/discard"' in page

    response = client.post(f"/imports/{import_id}/discard",
                           data={"csrf_token": csrf_token(client, f"/imports/{import_id}")})
    assert response.status_code == 302
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert job.status == ImportStatus.DISCARDED and job.file_path == ""
    assert not path.exists()
    assert db.session.scalar(db.select(db.func.count()).select_from(ImportRowResult).where(
        ImportRowResult.import_id == import_id)) == 0  # the bad row's cells went with it
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="import.discarded"))
    assert (event.actor_id, event.object_id) == (user.id, import_id)
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Ewa Staff" in page and 'id="discarded"' in page
    assert "left-behind.csv" in client.get("/imports/").get_data(as_text=True)
    # Nothing more can be done with it.
    response = client.post(f"/imports/{import_id}/apply",
                           data={"csrf_token": csrf_token(client, "/imports/")})
    assert db.session.get(ImportJob, import_id).status == ImportStatus.DISCARDED


def test_an_applied_import_cannot_be_discarded(client, login_as, run_jobs):
    from .test_transfer_import import apply

    login_as("staff")
    import_id = upload(client, csv_file("E-mail", "a@shop.test"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    assert 'id="discard-upload"' not in client.get(f"/imports/{import_id}").get_data(
        as_text=True)
    client.post(f"/imports/{import_id}/discard",
                data={"csrf_token": csrf_token(client, f"/imports/{import_id}")})
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert job.status == ImportStatus.READY and job.file_path


def test_new_customers_get_numbers_from_the_store_series(client, login_as, run_jobs):
    from shopadmin.customers.models import Customer
    from shopadmin.settings.services import get_setting, update_settings

    from .test_transfer_import import apply

    login_as("admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'id="customer_number_prefix"' in page and "00001" in page
    update_settings({"customer_number_prefix": "K-", "customer_number_digits": 4,
                     "customer_number_next": 41})
    make_customer(email="old@shop.test", customer_number="K-0042")  # taken: passed over
    import_id = upload(client, csv_file(
        "E-mail;Customer number",
        "a@shop.test;", "b@shop.test;OWN-7", "c@shop.test;", "old@shop.test;"))
    assert "K-0041" in client.get(f"/imports/{import_id}").get_data(as_text=True)
    preview(client, run_jobs, import_id, number_series="y")
    assert get_setting("customer_number_next") == 41  # the preview takes no number
    apply(client, run_jobs, import_id)
    numbers = {c.email: c.customer_number for c in db.session.scalars(db.select(Customer))}
    assert numbers == {"old@shop.test": "K-0042", "a@shop.test": "K-0041",
                       "b@shop.test": "OWN-7", "c@shop.test": "K-0043"}
    assert get_setting("customer_number_next") == 44


def test_without_the_option_no_number_is_given(client, login_as, run_jobs):
    from shopadmin.customers.models import Customer

    from .test_transfer_import import apply

    login_as("staff")
    import_id = upload(client, csv_file("E-mail", "a@shop.test"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    assert db.session.scalar(db.select(Customer.customer_number)) is None
