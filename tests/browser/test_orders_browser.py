"""In a real browser: a customer's order list in French."""

import pytest

from ..conftest import PASSWORD
from ..factories import make_customer, make_staff
from ..http.test_orders_pages import make_order

pytestmark = pytest.mark.browser


def test_customer_order_list_in_french(page, screenshot, run_jobs):
    user = make_staff(name="Claire Martin")
    customer = make_customer(first_name="Zoé", last_name="Lefèvre")
    make_order("FR-1", customer, day=2, total="1234.50")
    make_order("FR-2", customer, day=5, total="10.00")
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#figure-customers")
    page.click("#language-switcher button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    page.goto(f"/customers/{customer.id}")  # the customer page, where staff look first
    panel = page.inner_text("#customer-orders")
    assert "Liste des commandes" in panel and "2 commandes" in panel
    screenshot("customer-page-orders-fr")
    page.click("#customer-order-list")
    section = page.inner_text("#customer-orders")
    assert section.index("FR-2") < section.index("FR-1")
    # Amounts and dates formatted for French (narrow no-break spaces included).
    spent = page.inner_text("#total-spent").replace("\u202f", " ").replace("\xa0", " ")
    assert spent == "1 244,50 €"
    assert "05/03/2026" in section  # the one French date style of every list
    assert "Commandes" in page.inner_text("nav")
    screenshot("customer-orders-fr")
    page.click("text=FR-1")
    page.wait_for_selector("#order-lines")
    screenshot("order-fr")
    assert "1 234,50 €" in page.inner_text("#order-lines").replace("\u202f", " ").replace(
        "\xa0", " ")
    page.goto("/orders/")
    assert page.inner_text("#orders").count("FR-") == 2
    screenshot("orders-list-fr")
    page.click("#export-orders")  # the orders as a worksheet, in the background
    page.wait_for_selector("#export-form")
    page.click("#export-form button[type=submit]")
    page.wait_for_selector("text=Export : Commandes")
    assert run_jobs() == 1  # the job worker's turn; the page polls and reloads itself
    page.wait_for_selector("#download", timeout=15_000)
    assert "2 lignes exportées" in page.inner_text("#export-ready")
    screenshot("orders-export-fr")
