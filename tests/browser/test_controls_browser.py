"""In a real browser: a confirmation is a dialog in the page (cancel keeps, confirm sends), and
the import's bad-rows limit shows only with the policy that uses it."""

import pytest
from playwright.sync_api import expect

from shopadmin.customers.models import CustomerGroup
from shopadmin.extensions import db

from ..conftest import PASSWORD
from ..factories import make_staff
from ..http.test_transfer_import import csv_file

pytestmark = pytest.mark.browser


def sign_in(page, user):
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#figure-customers")


def test_deleting_a_group_asks_in_a_dialog_of_the_page(page, screenshot):
    admin = make_staff("admin", language="fr")
    group = CustomerGroup(name="Grossistes")
    db.session.add(group)
    db.session.commit()
    group_id = group.id
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, admin)
    page.goto(f"/customers/groups/{group.id}")
    page.get_by_role("button", name="Supprimer le groupe").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "Grossistes" in dialog.locator(".confirm-question").inner_text()
    screenshot("confirm-dialog")
    dialog.get_by_role("button", name="Annuler").click()
    dialog.wait_for(state="hidden")
    assert page.url.endswith(f"/customers/groups/{group.id}")
    assert db.session.get(CustomerGroup, group.id) is not None

    page.get_by_role("button", name="Supprimer le groupe").click()
    dialog.wait_for(state="visible")
    dialog.locator(".confirm-yes").click()
    page.wait_for_url("**/customers/groups/")
    db.session.expunge_all()
    assert db.session.get(CustomerGroup, group_id) is None
    assert dialogs == []  # never the browser's own confirm()


def test_the_bad_rows_limit_shows_with_the_policy_that_uses_it(page):
    sign_in(page, make_staff(language="de"))
    page.goto("/imports/new")
    page.set_input_files("#file", files=[{"name": "kunden.csv", "mimeType": "text/csv",
                                          "buffer": csv_file("E-Mail", "a@shop.test")}])
    page.click("main form button[type=submit]")
    page.wait_for_selector("#mapping")
    limit = page.locator("#max_bad_rows")
    # Waiting assertions: the page's script hides the field once it has run.
    expect(limit).to_be_hidden()
    page.check("input[name=on_errors][value=stop]")
    expect(limit).to_be_visible()
    page.check("input[name=on_errors][value=skip]")
    expect(limit).to_be_hidden()


def test_the_mail_preview_shows_the_whole_mail(page):
    sign_in(page, make_staff("admin", language="pl"))
    page.goto("/settings/notifications/account_password/pl")
    frame = page.locator("#mail-preview")
    page.wait_for_function("""() => {
        const frame = document.getElementById("mail-preview");
        return frame.contentDocument && frame.contentDocument.readyState === "complete"
            && frame.style.height !== "";
    }""")
    inner, outer = frame.evaluate(
        "frame => [frame.contentDocument.documentElement.scrollHeight, frame.clientHeight]")
    assert inner > 500 and outer >= inner  # the mail is longer than a screen, and all shown
