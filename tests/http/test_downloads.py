"""Downloads (exports, privacy export, rejected rows): never cached, one charset, and an export
only for the staff member who made it and for admins."""

from sqlalchemy import select

from shopadmin.exports.models import ExportJob

from ..conftest import csrf_token, sign_in
from ..factories import make_customer, make_staff


def _export_as(client, run_jobs, fmt: str = "csv") -> int:
    token = csrf_token(client, "/exports/")
    response = client.post("/exports/", data={"csrf_token": token, "format": fmt,
                                              "headings": "", "query": ""})
    assert response.status_code == 302
    run_jobs()
    from shopadmin.extensions import db

    return db.session.scalar(select(ExportJob.id).order_by(ExportJob.id.desc()))


def test_an_export_is_for_its_maker_and_admins_only(app, client, login_as, run_jobs):
    make_customer(first_name="Łucja")
    maker = login_as("staff")
    export_id = _export_as(client, run_jobs)
    own = client.get(f"/exports/{export_id}/download")
    assert own.status_code == 200
    assert own.headers["Cache-Control"] == "no-store"
    assert own.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "Łucja" in own.get_data(as_text=True)
    own.close()

    colleague = app.test_client()
    sign_in(colleague, make_staff().email)
    assert colleague.get(f"/exports/{export_id}/download").status_code == 403
    assert colleague.get(f"/exports/{export_id}").status_code == 403
    listed = colleague.get("/exports/").get_data(as_text=True)
    assert f"/exports/{export_id}" not in listed

    admin = app.test_client()
    sign_in(admin, make_staff(role="admin").email)
    by_admin = admin.get(f"/exports/{export_id}/download")
    assert by_admin.status_code == 200
    by_admin.close()
    assert maker.id is not None


def test_json_and_xlsx_exports_have_one_plain_content_type(client, login_as, run_jobs):
    make_customer()
    login_as("admin")
    for fmt, expected in (("json", "application/json"),
                          ("xlsx", "application/vnd.openxmlformats-officedocument"
                                   ".spreadsheetml.sheet")):
        export_id = _export_as(client, run_jobs, fmt)
        response = client.get(f"/exports/{export_id}/download")
        assert response.headers["Content-Type"] == expected
        assert response.headers["Cache-Control"] == "no-store"
        response.close()


def test_privacy_export_is_not_cached(client, login_as):
    login_as("admin")
    customer = make_customer()
    response = client.get(f"/customers/{customer.id}/privacy/export")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/json"


def test_rejected_rows_download_is_not_cached(client, login_as, run_jobs):
    from .test_transfer_import import HEADINGS, apply, csv_file, preview, upload

    login_as("staff")
    import_id = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;", "C;D;broken;;;"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    with client.get(f"/imports/{import_id}/rejected") as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_static_files_may_still_be_cached(client):
    response = client.get("/static/js/shopadmin.js")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()
