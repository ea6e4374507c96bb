"""In a real browser at 1366 px, in each of the four languages: every page of the back office,
with a control that is cut, wraps or sticks out of its container, or an English word outside
data, named as a failure. A screenshot of each page is kept under test-output/screenshots/walk/."""

import io
from decimal import Decimal

import pytest
from flask import url_for

from shopadmin.customers.bulk import BulkJob
from shopadmin.customers.models import CustomerGroup
from shopadmin.customers.privacy import export_customer_data
from shopadmin.exports.services import start_export
from shopadmin.extensions import db
from shopadmin.imports.services import request_preview, save_mapping, start_import
from shopadmin.imports.tasks import run_import_task
from shopadmin.notifications.models import MailLog, OutboxMessage
from shopadmin.notifications.services import send_password_mails
from shopadmin.orders.models import Order, OrderLine
from shopadmin.text import fold

from ..conftest import OUTPUT, sign_in
from ..factories import make_customer, make_staff
from .page_walk import INSPECT_PAGE, english_words, screenshot, walk

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
# Answers that are not pages: files, JSON for progress bars, the mail as sent inside its frame,
# the password pages' redirect; and what only exists for a moment.
NOT_PAGES = {
    "static", "customers.privacy_export", "exports.download",
    "imports.rejected", "imports.warnings", "imports.status", "notifications.batch_status",
    "notifications.preview_template", "notifications.outbox_message_html", "account.reset",
    "api.openapi",
}
# Data the test puts in, and the shop's name from the settings: not interface text.
DATA = {"Shop", "Anna", "Kowalska", "Stammkunden", "Mug", "Zofia", "Wiśniewska", "Rue",
        "Lyon"}


def build_register(admin) -> dict:
    """One of everything a page can show, and the arguments of the pages that show them."""
    group = CustomerGroup(name="Stammkunden")
    db.session.add(group)
    customer = make_customer(first_name="Anna", last_name="Kowalska", billing_city="Lyon",
                             billing_address1="Rue", groups=[group], language=admin.language)
    order = Order(number="1001", customer_id=customer.id, currency="EUR",
                  subtotal=Decimal("12.50"), total=Decimal("12.50"), email=customer.email,
                  email_key=customer.email, name="Anna Kowalska",
                  search_text=fold("Anna Kowalska"), country="FR",
                  billing_address={"city": "Lyon", "country": "FR"},
                  lines=[OrderLine(name="Mug", quantity=1, unit_price=Decimal("12.50"),
                                   line_total=Decimal("12.50"))])
    db.session.add(order)
    # A password column (never imported: its cell explains why) and long notes, as files
    # from other shops have them: the review's table must still fit the page.
    upload = io.BytesIO(("First name;Last name;E-mail;Country;Password;Notes\r\n"
                         "Zofia;Wiśniewska;zofia@shop.test;PL;$2y$10$abcdefghijklmnop;"
                         + "Stammkundin seit 2019, bestellt meist zum Monatsende, " * 4
                         + "\r\n").encode())
    job = start_import(upload, "customers.csv", actor=admin)
    save_mapping(job, job.mapping)
    request_preview(job)
    export = start_export(admin, "csv", None, "", None)
    bulk = BulkJob(actor_id=admin.id, action="approve", params={}, query="", total=1)
    db.session.add(bulk)
    batch = send_password_mails([customer.id], admin)
    export_customer_data(customer, actor=admin)  # a line in the privacy log
    db.session.commit()
    run_import_task(job.id)
    return {"customer_id": customer.id, "group_id": group.id, "number": order.number,
            "import_id": job.id, "export_id": export.id, "job_id": bulk.id,
            "batch_id": batch.id, "user_id": admin.id, "key": "account_password",
            "token": "no-such-token"}


def pages(app, arguments: dict) -> list[str]:
    """Every page of the app (GET, not a file), its arguments filled from the register."""
    urls = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            missing = rule.arguments - arguments.keys()
            assert not missing, f"the walk cannot fill {rule.rule}: add it to build_register"
            urls.append(url_for(rule.endpoint, **{name: arguments[name]
                                                  for name in rule.arguments}))
    return urls


@pytest.mark.parametrize("language", ["de", "fr", "en", "pl"])
def test_every_page_fits_at_1366_px_and_reads_in_its_language(
        app, browser, live_server, run_jobs, language):
    # The browser keeps the static files for the walk: each page is one request, not six.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    admin = make_staff("admin", language=language, name="Zofia Wiśniewska")
    arguments = build_register(admin)
    run_jobs()  # the preview, the export and the mail: their pages show them done
    message = db.session.scalar(db.select(OutboxMessage.id))
    arguments["message_id"] = message
    arguments["log_id"] = db.session.scalar(db.select(MailLog.id))
    arguments["language"] = language
    urls = pages(app, arguments)

    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  viewport={"width": WIDTH, "height": HEIGHT})
    # Signed in over HTTP and the session handed to the browser: signing in through the form is
    # the browser sign-in tests' part, and costs the walk three page loads a language.
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url,
                          "httpOnly": True, "sameSite": "Lax"}])
    folder = OUTPUT / "screenshots" / "walk" / language
    folder.mkdir(parents=True, exist_ok=True)
    failures = []

    def check(page, url, response) -> None:
        assert response.status < 400, (url, response.status)
        found = page.evaluate(INSPECT_PAGE)
        assert found["lang"] == language, (url, found["lang"])
        name = url.strip("/").replace("/", "_") or "dashboard"
        screenshot(page, folder / f"{name}.jpeg")
        failures.extend(f"{url}: {problem}" for problem in found["problems"])
        failures.extend(f"{url}: English {text}"
                        for text in english_words(found["texts"], language, DATA))

    walk(context, urls, check)
    context.close()
    assert not failures, "\n".join(failures)


def test_the_english_check_finds_an_untranslated_label_and_spares_data():
    assert english_words(["Kunden", "Save view"], "de") == ["'Save view' (save, view)"]
    assert english_words(["Anna Kowalska", "Stammkunden"], "de", DATA) == []
    assert english_words(["Zapisz widok", "Apply the import"], "pl") == [
        "'Apply the import' (apply, the)"]  # "import" is Polish too
    assert english_words(["Save view"], "en") == []
