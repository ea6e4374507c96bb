"""In a real browser, in Polish: a Windows-1250 file with `;` goes in, a bad row comes back as a
worksheet, is corrected and goes in too."""

import pytest

from shopadmin.customers.models import Customer
from shopadmin.extensions import db

from ..conftest import PASSWORD
from ..factories import make_staff

pytestmark = pytest.mark.browser

POLISH_CUSTOMERS = "\r\n".join([
    "Nr w starym sklepie;Imię;Nazwisko;E-mail;Telefon",
    "S-001;Zofia;Wiśniewska;zofia.wisniewska@sklep-łódź.pl;+48 42 123 45 67",
    "S-002;Łukasz;Żółkiewski;lukasz@sklep.pl;0048 600 700 800",
    "S-003;Małgorzata;Dąbrowska;małgorzata@;+48 22 000 11 22",
    "S-004;Jędrzej;Śliwiński;jedrzej.sliwinski@sklep.pl;",
]) + "\r\n"


def upload_and_preview(page, content: bytes, name: str, run_jobs, fix_mapping: bool):
    page.goto("/imports/new")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv",
                                          "buffer": content}])
    page.click("main form button[type=submit]")
    page.wait_for_selector("#mapping")
    if fix_mapping:
        # The old shop's own column: no mapper knows it; staff map it to the customer number.
        page.select_option("#column-0", "customer_number")
    page.click("#preview-button")
    page.wait_for_selector("#import-running")
    run_jobs()  # the page polls the status and reloads itself when the preview is ready
    page.wait_for_selector("#preview", timeout=15_000)


def apply_and_watch(page, run_jobs, screenshot, name: str):
    page.click("#apply-button")
    page.wait_for_selector("#import-running .progress")
    screenshot(f"{name}-progress")
    run_jobs()  # the worker's part; the page polls the status and reloads when it is done
    page.wait_for_selector("#report", timeout=15_000)
    screenshot(f"{name}-report")


def count(key: str, page) -> int:
    return int(page.get_attribute(f"#count-{key}", "data-count"))


def test_polish_windows_1250_import_with_a_corrected_reimport(page, run_jobs, screenshot,
                                                              tmp_path):
    user = make_staff(name="Zofia Admin", language="pl")
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("html[lang=pl]")

    upload_and_preview(page, POLISH_CUSTOMERS.encode("cp1250"), "klienci.csv", run_jobs,
                       fix_mapping=True)
    assert page.input_value("#column-0") == "customer_number"
    assert (count("created", page), count("rejected", page)) == (3, 1)
    assert "małgorzata@" in page.inner_text("#rejected-rows")
    screenshot("preview")
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0

    apply_and_watch(page, run_jobs, screenshot, "first")
    assert (count("created", page), count("rejected", page)) == (3, 1)
    with page.expect_download() as download:
        page.click("#download-rejected")
    worksheet = download.value.path().read_bytes()
    assert "Małgorzata".encode() in worksheet

    corrected = worksheet.replace("małgorzata@".encode(), b"malgorzata@sklep.pl")
    upload_and_preview(page, corrected, "klienci-poprawione.csv", run_jobs, fix_mapping=False)
    # The mapping corrected for the first file is remembered for its error worksheet.
    assert page.input_value("#column-0") == "customer_number"
    assert (count("created", page), count("rejected", page)) == (1, 0)
    apply_and_watch(page, run_jobs, screenshot, "second")

    db.session.rollback()
    customers = {c.customer_number: c for c in db.session.scalars(db.select(Customer))}
    assert sorted(customers) == ["S-001", "S-002", "S-003", "S-004"]
    assert customers["S-003"].last_name == "Dąbrowska"
    assert customers["S-002"].first_name == "Łukasz"
    page.goto("/imports/")
    assert page.locator("#imports tbody tr").count() == 2
    screenshot("list")
