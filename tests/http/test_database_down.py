"""The database down (a stopped or unreachable server): pages and the API say so with 503 and
a translated page, the log names no password, nothing answers 500."""

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from shopadmin import create_app

from ..conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]


def unreachable_database_url() -> str:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://shop:secret-database-password@127.0.0.1:{port}/shop"


def app_without_database(folder, secret_key: str = "test secret"):
    return create_app({
        "INSTANCE_PATH": str(folder), "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": unreachable_database_url(), "SECRET_KEY": secret_key,
        "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": "",
        "HUEY_SQLITE_PATH": str(folder / "jobs.db"), "SHOP_URL": "http://shop.test",
        "TRUSTED_HOSTS": ["localhost", "shop.test"], "DEFAULT_LANGUAGE": "de"})


def test_pages_and_the_api_say_the_database_is_not_answering(tmp_path, caplog):
    client = app_without_database(tmp_path).test_client()
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
    down = app_without_database(tmp_path / "down", app.config["SECRET_KEY"]).test_client()
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
