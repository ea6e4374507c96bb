"""Approving customers is an administrator's right (auth/rights.py), in an import as on the
form: a member without it imports new customers waiting for approval and leaves existing ones'
approval as it is, each case the file disagrees with named in a warning; an administrator's
import applies the column."""

import pytest

from shopadmin.extensions import db
from shopadmin.imports.models import ImportRowResult

from ..factories import make_customer
from .test_transfer_import import apply, csv_file, customers_by_email, preview, upload

FILE = csv_file("E-Mail,Vorname,Nachname,Freigegeben",
                "neu.ja@shop.test,Anna,Nowak,ja",
                "neu.leer@shop.test,Jan,Kowalski,",
                "alt.frei@shop.test,Eva,Müller,nein",
                "alt.wartet@shop.test,Olaf,Schmidt,ja")


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_an_import_approves_only_with_the_right(client, login_as, run_jobs, role):
    login_as(role)
    make_customer(email="alt.frei@shop.test", first_name="Eva", last_name="Müller",
                  approved=True)
    make_customer(email="alt.wartet@shop.test", first_name="Olaf", last_name="Schmidt",
                  approved=False)
    import_id = upload(client, FILE)
    job = preview(client, run_jobs, import_id)
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    job = apply(client, run_jobs, import_id)
    found = customers_by_email()
    approval = {email: found[email].approved for email in (
        "neu.ja@shop.test", "neu.leer@shop.test", "alt.frei@shop.test", "alt.wartet@shop.test")}
    warnings = {result.row: [w["message"] for w in result.warnings] for result in
                db.session.scalars(db.select(ImportRowResult).where(
                    ImportRowResult.import_id == import_id))}
    if role == "admin":
        assert approval == {"neu.ja@shop.test": True, "neu.leer@shop.test": True,
                            "alt.frei@shop.test": False, "alt.wartet@shop.test": True}
        assert "wait for approval" not in page
        assert not any(warnings.values())
        return
    assert approval == {"neu.ja@shop.test": False, "neu.leer@shop.test": False,
                        "alt.frei@shop.test": True, "alt.wartet@shop.test": False}
    assert "the 2 new customers will wait for approval" in page
    assert job.created == 2 and job.updated == 0 and job.unchanged == 2
    assert warnings[2] == ["Only an administrator can approve a customer: this one waits "
                           "for approval."]
    assert 3 not in warnings or not warnings[3]
    for row in (4, 5):
        assert warnings[row] == ["Only an administrator can approve a customer or set one "
                                 "waiting: the customer’s approval was left as it was."]
