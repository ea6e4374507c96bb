"""The store settings' retention periods, applied by the daily job."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from shopadmin.account.models import PasswordResetToken
from shopadmin.database import utcnow
from shopadmin.extensions import db
from shopadmin.imports.job_file import upload_path
from shopadmin.imports.models import ImportJob, ImportRowResult
from shopadmin.notifications.models import OutboxMessage
from shopadmin.orders.models import IdempotentRequest
from shopadmin.retention import apply_retention, apply_retention_daily
from shopadmin.settings.services import get_setting

from ..conftest import csrf_token
from ..factories import make_customer
from .test_forget_customers import api
from .test_transfer_import import apply, csv_file, preview, upload


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_uploads_rejected_rows_and_spent_things_go_after_their_days(app, client, login_as,
                                                                    run_jobs):
    assert (get_setting("upload_keep_days"), get_setting("spent_keep_days")) == (30, 30)
    login_as("admin")
    import_id = upload(client, csv_file("First name;Last name;E-mail",
                                        "Jan;Nowak;jan@poczta.test", "Bad;Row;no-address"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    file = upload_path(db.session.get(ImportJob, import_id))
    assert file.exists() and count(ImportRowResult) == 1
    app.config["MAIL_SERVER"] = ""
    customer = make_customer()
    url = f"/customers/{customer.id}"
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    run_jobs()  # the worker sends each (into the local outbox)
    client.post(url + "/send-password", data={"csrf_token": csrf_token(client, url)})
    run_jobs()
    api(client, "/customers", {"email": "shop@poczta.test"}, **{"Idempotency-Key": "k1"})
    assert count(OutboxMessage) == 2 and count(IdempotentRequest) == 1
    assert count(PasswordResetToken) == 2  # one replaced, one open

    assert apply_retention(utcnow() + timedelta(days=29)) == {
        "uploads": 0, "tokens": 0, "idempotency_keys": 0, "outbox": 0}
    later = utcnow() + timedelta(days=34)  # 30 days after the open link expired
    summary = apply_retention(later)
    db.session.commit()
    assert summary["uploads"] == 1 and summary["idempotency_keys"] == 1
    assert summary["outbox"] == 2 and summary["tokens"] == 2  # replaced, and expired
    assert not file.exists() and count(ImportRowResult) == 0
    page = client.get(f"/imports/{import_id}")
    assert page.status_code == 200
    assert list(Path(app.config["UPLOAD_FOLDER"]).rglob("*.upload")) == []


def test_the_daily_job_runs_the_sweep(app):
    apply_retention_daily.call_local()  # nothing to do, and no error


def test_the_periods_are_store_settings(client, login_as):
    login_as("admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert "Days uploaded files and rejected rows are kept" in page
    assert 'name="spent_keep_days"' in page
