"""Other platforms' files as they are: every customer with a valid e-mail address goes in, every
value is stored or named in a warning, and each customer gets a language."""

import io

import openpyxl

from shopadmin.customers.models import Customer, CustomerGroup
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportRowResult
from shopadmin.settings.services import update_settings

from ..conftest import csrf_token
from ..platform_files import (
    abicart_without_headings,
    german_shop_without_language,
    lightspeed_benelux,
    magento_with_address_rows,
    prestashop_latin1,
    shopify_with_tags,
    woocommerce,
)
from .test_transfer_import import apply, csv_file, customers_by_email, preview, upload


def results(import_id: int, rejected: bool) -> list[ImportRowResult]:
    return list(db.session.scalars(db.select(ImportRowResult).filter_by(
        import_id=import_id, rejected=rejected).order_by(ImportRowResult.row)))


def test_a_lightspeed_benelux_export_goes_in_whole(client, login_as, run_jobs):
    login_as("staff")
    content, expected = lightspeed_benelux(200)
    job = preview(client, run_jobs, upload(client, content, "lightspeed.csv"))
    assert (job.preview["created"], job.preview["rejected"]) == (len(expected["emails"]),
                                                                 expected["rejected"])
    assert job.preview["languages"] == expected["languages"]
    assert job.preview["languages"]["nl"] > 0
    job = apply(client, run_jobs, job.id)
    customers = customers_by_email()
    # Customers in against customers in the register: every row with a valid address.
    assert set(customers) == expected["emails"]
    assert job.warned == expected["warned"] and job.rejected == expected["rejected"]
    by_language = {}
    for customer in customers.values():
        by_language[customer.language] = by_language.get(customer.language, 0) + 1
    assert by_language == expected["languages"]
    # The value that failed its check digits is kept as typed and named.
    flagged = customers["klant5@winkel.test"]
    assert flagged.vat_number == "NL000000000B00"
    warned = results(job.id, rejected=False)
    assert any(w["column"] == "Vat number" and "imported as typed" in w["message"]
               for r in warned for w in r.warnings)
    assert any(w["column"] == "Date of birth" and w["value"] == "31-02-1980"
               for r in warned for w in r.warnings)
    assert customers["klant3@winkel.test"].birth_date is None
    page = client.get(f"/customers/{flagged.id}").get_data(as_text=True)
    assert 'id="customer-import-warnings"' in page and "NL000000000B00" in page
    assert {c.last_name_prefix for c in customers.values()} >= {"van", "de", "van der"}
    # The register shows the customers with warnings for review, and the import's own.
    page = client.get(f"/customers/?warnings=yes&import={job.id}").get_data(as_text=True)
    assert f"{expected['warned']} customers" in page
    page = client.get(f"/customers/?import={job.id}").get_data(as_text=True)
    assert f"{len(expected['emails'])} customers" in page
    # Both worksheets: the rejected rows with their errors, the warned ones with warnings.
    with client.get(f"/imports/{job.id}/warnings") as response:  # (closes the file)
        warned_sheet = response.get_data(as_text=True)
    assert "Import warnings" in warned_sheet and "31-02-1980" in warned_sheet
    with client.get(f"/imports/{job.id}/rejected") as response:
        rejected_sheet = response.get_data(as_text=True)
    assert "Import error" in rejected_sheet and "geen-adres" in rejected_sheet


def test_a_german_file_without_languages_gets_german_from_the_shop_country(
        app, client, login_as, run_jobs):
    app.config["DEFAULT_LANGUAGE"] = None  # a new store: its default follows its country (DE)
    login_as("staff", language="en")
    job = preview(client, run_jobs, upload(client, german_shop_without_language(30)))
    assert job.preview["languages"] == {"de": 30, "fr": 1}
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert 'data-language="de"' in page and "German" in page
    apply(client, run_jobs, job.id)
    customers = customers_by_email()
    assert customers["kunde0@laden.test"].language == "de"
    assert customers["marie@laden.test"].language == "fr"
    assert customers["kunde0@laden.test"].billing_postcode == "01067"


def test_staff_can_give_one_language_to_the_whole_file(client, login_as, run_jobs):
    login_as("staff")
    job = preview(client, run_jobs, upload(client, german_shop_without_language(3)),
                  language="pl")
    assert job.preview["languages"] == {"pl": 4}


def test_a_country_whose_language_the_shop_does_not_write_gets_the_default(
        app, client, login_as, run_jobs):
    login_as("staff")
    update_settings({"default_language": "en", "languages": ["de", "en"]})
    db.session.commit()
    content = csv_file("E-mail;Country", "a@shop.test;AT", "b@shop.test;FR", "c@shop.test;BE")
    job = preview(client, run_jobs, upload(client, content))
    assert job.preview["languages"] == {"de": 1, "en": 2}


def test_shopify_tags_become_groups_and_unknown_ones_are_warnings(client, login_as, run_jobs):
    login_as("staff")
    db.session.add(CustomerGroup(name="VIP"))
    db.session.commit()
    job = preview(client, run_jobs, upload(client, shopify_with_tags(), "shopify.csv"))
    assert (job.preview["created"], job.preview["rejected"]) == (3, 0)
    assert job.preview["missing_groups"] == ["Newsletter 2024", "Wholesale"]
    job = apply(client, run_jobs, job.id)
    customers = customers_by_email()
    assert [g.name for g in customers["ann@store.test"].groups] == ["VIP"]
    assert customers["ann@store.test"].billing_postcode == "01234"
    assert customers["ann@store.test"].phone == "+1 416 555 0100"
    assert customers["ann@store.test"].notes == "Met at the fair"
    messages = [w["message"] for r in results(job.id, rejected=False) for w in r.warnings]
    assert any("Wholesale" in m for m in messages) and any("Newsletter 2024" in m
                                                            for m in messages)
    # With the switch, the missing groups are created.
    again = preview(client, run_jobs, upload(client, shopify_with_tags(), "shopify.csv"),
                    create_groups="y", mode="update_only")
    apply(client, run_jobs, again.id)
    customers = customers_by_email()
    assert sorted(g.name for g in customers["ann@store.test"].groups) == ["VIP", "Wholesale"]


def test_magento_address_rows_become_the_shipping_address_or_a_warning(
        client, login_as, run_jobs):
    login_as("staff")
    job = preview(client, run_jobs, upload(client, magento_with_address_rows(), "magento.csv"))
    assert (job.preview["created"], job.preview["rejected"]) == (2, 0)
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "password_hash" in page and "$2y$10$secret" not in page  # listed, never imported
    # password_hash, rp_token, rp_token_created_at, password
    assert page.count('class="form-text secret-column"') == 4
    job = apply(client, run_jobs, job.id)
    customers = customers_by_email()
    jana = customers["jana@mage.test"]
    assert (jana.billing_city, jana.billing_postcode) == ("Berlin", "10115")
    assert jana.shipping_differs
    assert (jana.shipping_city, jana.shipping_postcode) == ("Potsdam", "14467")
    assert jana.shipping_address1 == "Am Kanal 2\nHinterhaus"
    assert jana.password_hash is None
    karl = customers["karl@mage.test"]
    assert karl.billing_city == "Köln" and not karl.shipping_differs
    warnings = [w for r in results(job.id, rejected=False) for w in r.warnings]
    assert [w["value"] for w in warnings if "Row 5 adds" in w["message"]] == [
        "Bonn, DE, 53111, Markt 1"]


def test_a_remembered_mapping_plus_one_column_maps_the_new_column(client, login_as, run_jobs):
    login_as("staff")
    first = upload(client, csv_file("Vorname;Name;Mail", "Ann;Lee;ann@shop.test"))
    preview(client, run_jobs, first, **{"column-1": "last_name", "column-2": "email"})
    second = upload(client, csv_file("Vorname;Name;Mail;Mobil", "Bo;Ek;bo@shop.test;0170 1"))
    job = db.session.get(ImportJob, second)
    assert job.mapping == ["first_name", "last_name", "email", "mobile"]
    page = client.get(f"/imports/{second}").get_data(as_text=True)
    assert page.count("new-column") == 1
    apply(client, run_jobs, preview(client, run_jobs, second).id)
    assert customers_by_email()["bo@shop.test"].mobile == "0170 1"


def test_xlsx_is_read_as_the_spreadsheet_shows_it(client, login_as, run_jobs, tmp_path):
    login_as("staff")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["First name", "Last name", "E-mail", "Postcode", "Phone", "Notes"])
    sheet.append(["Ada", "Zip", "ada@shop.test", 1067, 301234567, "Line one_x000D_\nLine two"])
    sheet.append(["Bob", "Calc", "bob@shop.test", 10115, None, None])
    sheet["D2"].number_format = "00000"
    sheet["E2"].number_format = "0000000000"
    sheet["F3"] = "=A3&B3"  # openpyxl stores no result, as programs that do not calculate
    buffer = io.BytesIO()
    book.save(buffer)
    job = preview(client, run_jobs, upload(client, buffer.getvalue(), "book.xlsx"))
    assert (job.preview["created"], job.preview["warned"]) == (2, 1)
    job = apply(client, run_jobs, job.id)
    customers = customers_by_email()
    assert customers["ada@shop.test"].billing_postcode == "01067"
    assert customers["ada@shop.test"].phone == "0301234567"
    assert customers["ada@shop.test"].notes == "Line one\r\nLine two"
    [warned] = results(job.id, rejected=False)
    assert warned.row == 3 and warned.warnings[0]["column"] == "Notes"
    assert "formula" in warned.warnings[0]["message"]


def test_files_that_say_nothing_or_too_much_are_named(client, login_as, run_jobs):
    login_as("staff")
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "customers",
        "file": (io.BytesIO(csv_file("First name;Last name;E-mail")), "empty.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "headings but no rows" in response.get_data(as_text=True)
    job = preview(client, run_jobs, upload(client, csv_file(
        "First name;Last name;E-mail", "Ann;Lee;ann@shop.test;extra;more", ";;",
        "Bo;;bo@shop.test")))
    assert (job.preview["created"], job.preview["warned"]) == (2, 2)
    [extra, nameless] = results(job.id, rejected=False)
    assert extra.warnings[0]["value"] == "extra | more" and "2 more cells" in \
        extra.warnings[0]["message"]
    assert nameless.warnings[0]["column"] == "Last name"


def test_a_refused_all_or_nothing_import_lists_every_bad_row(client, login_as, run_jobs):
    login_as("staff")
    import_id = upload(client, csv_file("First name;Last name;E-mail", "A;B;bad",
                                        "C;D;c@shop.test", "E;F;also-bad", "G;H;c@shop.test"))
    preview(client, run_jobs, import_id, on_errors="stop", max_bad_rows="1")
    job = apply(client, run_jobs, import_id)
    assert job.status.value == "failed" and "3 rows are bad" in job.error
    assert [r.row for r in results(import_id, rejected=True)] == [2, 4, 5]
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'id="rejected-rows"' in page and "also-bad" in page


def test_prestashop_woocommerce_and_abicart_files_go_in_whole(client, login_as, run_jobs):
    login_as("staff")
    job = preview(client, run_jobs, upload(client, prestashop_latin1(), "customers.csv"))
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    assert (job.preview["created"], job.preview["rejected"]) == (2, 0)
    apply(client, run_jobs, job.id)
    customers = customers_by_email()
    helene = customers["hélène@boutique.test"]
    assert (helene.first_name, helene.gender.value, helene.newsletter) == ("Hélène", "female",
                                                                           True)
    assert customers["jerome@boutique.test"].birth_date is None  # 0000-00-00: a warning

    job = apply(client, run_jobs, preview(client, run_jobs, upload(
        client, woocommerce(), "woo.csv")).id)
    assert (job.created, job.rejected) == (2, 0), [r.errors for r in results(job.id, True)]
    zofia = customers_by_email()["zofia@sklep.test"]
    assert (zofia.billing_city, zofia.shipping_city, zofia.language) == ("Warszawa", "Kraków",
                                                                         "pl")
    assert zofia.phone == "=123" and zofia.password_hash is None

    import_id = upload(client, abicart_without_headings(), "abicart.csv")
    mapping = {"column-0": "first_name", "column-1": "last_name", "column-2": "email",
               "column-3": "company_name", "column-4": "company_id_number",
               "column-5": "billing_address1", "column-6": "billing_postcode",
               "column-7": "billing_city", "column-8": "billing_country", "column-9": "phone",
               "column-10": "mobile", "column-11": "groups", "column-12": "username"}
    job = apply(client, run_jobs, preview(client, run_jobs, import_id, **mapping).id)
    assert (job.created, job.rejected) == (2, 0)
    erik = customers_by_email()["erik@butik.test"]
    assert (erik.billing_country, erik.company_name, erik.mobile) == ("SE", "Lund AB",
                                                                      "031-11 22")


def test_a_customer_number_that_is_taken_is_left_out_not_the_customer(
        client, login_as, run_jobs):
    login_as("staff")
    job = apply(client, run_jobs, preview(client, run_jobs, upload(client, csv_file(
        "Customer number;E-mail", "K1;a@shop.test"))).id)
    job = apply(client, run_jobs, preview(client, run_jobs, upload(client, csv_file(
        "Customer number;E-mail", "K1;b@shop.test", "K2;c@shop.test", "K2;d@shop.test"))).id)
    assert (job.created, job.rejected, job.warned) == (3, 0, 2), (job.status, job.error)
    customers = customers_by_email()
    assert [customers[e].customer_number for e in ("a@shop.test", "b@shop.test",
                                                   "c@shop.test", "d@shop.test")] == [
        "K1", None, "K2", None]
    messages = [w["message"] for r in results(job.id, rejected=False) for w in r.warnings]
    assert "belongs to another customer" in messages[0] and "row 3" in messages[1]
