"""The database or Redis down (a stopped or unreachable server): pages and the API say so with
503 and a translated page, the log names no password, nothing answers 500."""

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from shopadmin import create_app

from ..conftest import POSTGRES_URL, csrf_token

ROOT = Path(__file__).resolve().parents[2]


def unreachable_database_url() -> str:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://shop:secret-database-password@127.0.0.1:{port}/shop"


def without_database(folder, secret_key: str = "test secret", back_to=None):
    return another_app({
        "INSTANCE_PATH": str(folder), "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": unreachable_database_url(), "SECRET_KEY": secret_key,
        "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": "",
        "HUEY_SQLITE_PATH": str(folder / "jobs.db"), "SHOP_URL": "http://shop.test",
        "TRUSTED_HOSTS": ["localhost", "shop.test"], "DEFAULT_LANGUAGE": "de"}, back_to)


@contextmanager
def another_app(config: dict, back_to=None):
    """create_app(config) for the block. The job queue, the limits and the app the tasks run
    in are global (extensions, jobs.bind_app): the ones in use are closed before, the block's
    after it (left to the garbage collector, a connection warns in whichever test runs then),
    and they are given back to the test's app `back_to`."""
    from shopadmin.extensions import db, huey, init_huey, init_limiter, release_connections
    from shopadmin.jobs import bind_app

    def close_queue() -> None:
        release_connections()
        if hasattr(huey.storage, "close"):  # SQLite's
            huey.storage.close()

    close_queue()
    made = create_app(config)
    try:
        yield made
    finally:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()
        close_queue()
        if back_to is not None:
            init_huey(back_to)
            init_limiter(back_to)
            bind_app(back_to)


def test_pages_and_the_api_say_the_database_is_not_answering(tmp_path, caplog):
    with without_database(tmp_path) as down_app:
        client = down_app.test_client()
        caplog.set_level(logging.ERROR)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
        assert client.get("/login").status_code == 200  # (no query: the form alone)
        token = csrf_token(client, "/login")
        for path, data in (("/login", {"email": "anna@shop.test", "password": "x"}),
                           ("/account/forgot", {"email": "ola@example.pl"})):
            response = client.post(path, data={**data, "csrf_token": token})
            page = response.get_data(as_text=True)
            assert response.status_code == 503, (path, page[:300])
            assert "Die Datenbank antwortet nicht" in page and "Nichts wurde geändert" in page
            assert int(response.headers["Retry-After"]) > 0
        response = client.post("/api/v1/customers", json={"email": "ola@example.pl"},
                               headers={"X-API-Key": "sk_" + "a" * 40})
        assert response.status_code == 503
        assert response.get_json()["errors"][0]["code"] == "unavailable"
        assert "database unavailable" in caplog.text
        assert "secret-database-password" not in caplog.text


def test_a_signed_in_member_of_staff_is_told_too(app, client, login_as, tmp_path):
    """Signed in while the database worked; then it stops: every page of the back office
    answers 503 with the page in the member's language, and no 500."""
    login_as("staff", language="fr")
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    with without_database(tmp_path / "down", app.config["SECRET_KEY"], app) as down_app:
        down = down_app.test_client()
        down.set_cookie(cookie.key, cookie.value)
        down.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
        for path in ("/", "/customers/", "/customers/?q=lodz", "/imports/", "/orders/"):
            response = down.get(path)
            page = response.get_data(as_text=True)
            assert response.status_code == 503, (path, response.status_code, page[:300])
            assert "La base de données ne répond pas" in page, path


def test_commands_say_which_database_did_not_answer_without_its_password(tmp_path):
    """`flask setup`, an import, `users list` on a database that is down: one clear line and
    the database (password left out), exit status 1, no traceback."""
    url = unreachable_database_url()
    env = {**os.environ, "DATABASE_URL": url, "SHOPADMIN_INSTANCE_PATH": str(tmp_path),
           "PYTHONWARNINGS": "ignore"}
    sheet = tmp_path / "customers.csv"
    sheet.write_text("E-Mail,Vorname\nola@example.pl,Ola\n", encoding="utf-8")
    for command in (["setup"], ["customers", "import", str(sheet)], ["users", "list"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (command, done.stderr[-2000:])
        assert "Error: The database did not answer: connection failed" in done.stderr
        assert "database: postgresql+psycopg://shop:***@127.0.0.1:" in done.stderr
        assert "Traceback" not in done.stderr and "secret-database-password" not in done.stderr


DEAD_REDIS = unreachable_database_url().replace("postgresql+psycopg://shop:secret-database-password@",
                                                "redis://").rsplit("/", 1)[0] + "/0"


def test_the_limits_store_down_is_said_too(database_template, tmp_path):
    """Redis holds the limits (REDIS_URL): down, a sign-in or the API answers 503 saying so
    (the throttle cannot count, so nothing goes through unthrottled), in the visitor's
    language."""
    url = database_template
    if not POSTGRES_URL:
        shutil.copy(database_template, tmp_path / "shopadmin.db")
        url = f"sqlite:///{tmp_path / 'shopadmin.db'}"
    with another_app({
            "INSTANCE_PATH": str(tmp_path), "TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test secret", "REDIS_URL": "", "RATELIMIT_STORAGE_URI": DEAD_REDIS,
            "HUEY_SQLITE_PATH": str(tmp_path / "jobs.db"), "SHOP_URL": "http://shop.test",
            "TRUSTED_HOSTS": ["localhost", "shop.test"]}) as limited:
        client = limited.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pl"
        response = client.post("/login", data={"email": "anna@shop.test", "password": "x",
                                               "csrf_token": csrf_token(client, "/login")})
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:300]
        assert "Kolejka zadań nie odpowiada" in page
        response = client.post("/api/v1/customers", json={"email": "ola@example.pl"},
                               headers={"X-API-Key": "sk_" + "a" * 40})
        assert response.status_code == 503
        assert response.get_json()["errors"][0]["code"] == "unavailable"

def test_an_import_applied_while_redis_is_down_starts_by_itself_when_it_answers(
        app, client, login_as, run_jobs):
    """The job queue (Redis) down as staff apply an import: 503 saying so, and the import,
    saved before it was queued, is queued by the worker's sweep once Redis answers again and
    runs: nothing is lost."""
    from shopadmin import tracking
    from shopadmin.database import utcnow
    from shopadmin.extensions import db
    from shopadmin.imports import services as import_services
    from shopadmin.imports.models import ImportJob, ImportStatus
    from shopadmin.imports.plan import ImportOptions
    from shopadmin.imports.tasks import run_import_task

    login_as("admin")
    job = import_services.start_import(
        io.BytesIO(b"Vorname;Nachname;E-Mail\nOla;Nowak;ola@sklep-nowak.pl\n"),
        "kunden.csv")
    import_services.save_mapping(job, job.mapping)
    import_services.save_options(job, ImportOptions())
    import_services.request_preview(job)
    db.session.commit()
    run_import_task(job.id)
    run_jobs()
    db.session.expire_all()
    assert job.status == ImportStatus.PREVIEWED
    token = csrf_token(client, f"/imports/{job.id}")
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    with another_app({
            "INSTANCE_PATH": app.instance_path, "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"], "REDIS_URL": DEAD_REDIS,
            "RATELIMIT_STORAGE_URI": DEAD_REDIS, "HUEY_REDIS_BLOCKING": False,
            "SHOP_URL": "http://shop.test", "TRUSTED_HOSTS": ["localhost", "shop.test"]},
            back_to=app) as down_app:
        down = down_app.test_client()
        down.set_cookie(cookie.key, cookie.value)
        down.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
        response = down.post(f"/imports/{job.id}/apply", data={"csrf_token": token})
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:300]
        assert "Die Auftragswarteschlange antwortet nicht" in page
    # Redis answers again (here: the queue, the limits and the tasks' app are the test's)
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status == ImportStatus.PROCESSING
    resumed = tracking.sweep(utcnow() + timedelta(minutes=1))
    assert [job_id for _, job_id in resumed] == [job.id]
    run_jobs()
    db.session.expire_all()
    done = db.session.get(ImportJob, job.id)
    # (it counted 2: the preview's count, then the row again)
    assert (done.status, done.rows_done, done.created, done.warned) == (ImportStatus.READY, 1, 1, 0)
