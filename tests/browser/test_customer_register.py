"""In a real browser, in German: create a business customer, find her without accents,
approve her with a bulk action, and read her history."""

import pytest

from ..conftest import PASSWORD
from ..factories import make_customer, make_staff

pytestmark = pytest.mark.browser


def test_register_in_german(page, screenshot):
    admin = make_staff("admin", language="de", name="Jürgen Groß")
    make_customer(last_name="Nowak", email="nowak@shop.test")
    page.goto("/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#figure-customers")

    page.goto("/customers/new")
    assert not page.is_visible("#company_name")
    page.fill("#first_name", "Zoé")
    page.fill("#last_name", "Müller")
    page.fill("#email", "zoe.muller@exemple.fr")
    page.select_option("#customer_type", "business")
    assert page.is_visible("#company_name")
    page.fill("#company_name", "Chez Zoé SARL")
    page.select_option("#billing_country", "FR")
    page.fill("#vat_number", "FR 40 303 265 045")
    page.fill("#billing_city", "Lyon")
    screenshot("new-customer")
    page.get_by_role("button", name="Kunde anlegen").click()
    assert "Kunde Zoé Müller angelegt." in page.inner_text("main")
    assert page.input_value("#vat_number") == "FR40303265045"

    page.fill("#billing_city", "Paris")
    page.get_by_role("button", name="Speichern").click()
    assert "Änderungen gespeichert." in page.inner_text("main")

    page.goto("/customers/")
    page.fill("#q", "muller")
    page.get_by_role("button", name="Suchen", exact=True).click()
    table = page.inner_text("#customer-table")
    assert "Zoé Müller" in table and "Nowak" not in table
    assert page.inner_text("#match-count") == "1 Kunde"
    page.check("#customer-table input[name=ids]")
    page.select_option("#bulk-form select[name=action]", "approve")
    page.get_by_role("button", name="Auf die ausgewählten anwenden").click()
    assert "Freigeben: 1 Kunde ist betroffen." in page.inner_text("#bulk-question")
    page.get_by_role("button", name="Ja, ausführen").click()
    assert "Freigeben: 1 Kunde geändert, von 1 ausgewählten." in page.inner_text("main")

    page.get_by_role("link", name="Zoé Müller").click()
    history = page.inner_text("#audit-history")
    assert "Ort: Lyon → Paris" in history
    assert "Freigegebener Käufer: Nein → Ja" in history
    assert "Jürgen Groß" in history
    screenshot("customer-history")
