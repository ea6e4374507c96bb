"""Fixtures: a real database (SQLite file, or PostgreSQL when DATABASE_URL is set), the app,
its test client, staff sign-in, the job queue, a loopback SMTP server and a live server."""

import os
import re
import shutil
import socket
import threading
import uuid
from pathlib import Path

import email_validator
import pytest
from flask import has_app_context
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from shopadmin import create_app
from shopadmin.extensions import db, huey, limiter, release_connections

from .factories import make_staff

# The library's own switch that lets addresses under the reserved .test domain through.
email_validator.TEST_ENVIRONMENT = True

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
# Set (CI's third leg), the job queue and the rate limits of every test are in this Redis.
REDIS_URL = os.environ.get("REDIS_URL", "")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
PASSWORD = "correct horse battery"
TEST_HASH_METHOD = "scrypt:1024:8:1"


def _pg_url(database: str) -> str:
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    base = base.replace("postgres://", "postgresql+psycopg://", 1)
    return base.rsplit("/", 1)[0] + "/" + database


def _migrate(url: str, instance: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """The migrated schema, made once: a SQLite file to copy, or a PostgreSQL test database."""
    folder = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        name = f"shopadmin_test_{uuid.uuid4().hex[:8]}"
        admin = create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)
        _migrate(url, folder)
        yield url
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = folder / "template.db"
        _migrate(f"sqlite:///{path}", folder)
        yield path


class IsolatedClient(FlaskClient):
    """Runs each request in an application context of its own, as a real server does.

    The test keeps its own context for direct database work; without this Flask would reuse it,
    and `g` (CSRF token, signed-in user) and the database session would leak between requests.
    """

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture
def app_redis_url() -> str:
    """The Redis the app's job queue and rate limits use; empty: SQLite queue, limits in memory.
    tests/scale overrides it with a Redis of its own when REDIS_URL is unset."""
    return REDIS_URL


def queue_settings(redis_url: str, instance: Path) -> dict:
    """Job queue and rate limits for one test: in Redis under a prefix of the test's own (so
    tests stay independent, and a developer's Redis keeps its keys), else SQLite and memory."""
    if redis_url:
        return {"REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url,
                "REDIS_PREFIX": f"shopadmintest{uuid.uuid4().hex[:12]}",
                "HUEY_REDIS_BLOCKING": False}
    return {"REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://",
            "HUEY_SQLITE_PATH": str(instance / "jobs.db")}


def forget_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    try:
        keys = list(connection.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            connection.delete(*keys)
    finally:
        connection.close()


@pytest.fixture
def app(database_template, tmp_path, app_redis_url, request):
    """The app, built by create_app as a deployment builds it; a test that needs settings
    create_app reads (the proxy count, ...) gives them with @pytest.mark.app_config(NAME=...)."""
    marker = request.node.get_closest_marker("app_config")
    instance = tmp_path / "instance"
    instance.mkdir()
    if POSTGRES_URL:
        url = database_template
    else:
        shutil.copy(database_template, instance / "shopadmin.db")
        url = f"sqlite:///{instance / 'shopadmin.db'}"
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test secret " + uuid.uuid4().hex,
        "SHOP_URL": "http://shop.test",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1", "shop.test"],
        **queue_settings(app_redis_url, instance),
        # Pages in English unless a test asks otherwise (a new store's follows its country).
        "DEFAULT_LANGUAGE": "en",
        # The production parameters (scrypt N=2^17) cost 0.4 s a hash; tests that are about
        # hashing set them back (tests/http/test_sessions_and_passwords.py).
        "PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
        # The scrub after an erasure is queued at once, for run_jobs to work.
        "SCRUB_DELAY_SECONDS": 0,
        **(marker.kwargs if marker else {}),
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        if POSTGRES_URL:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()
    huey.storage.flush_all()
    if hasattr(huey.storage, "close"):  # SQLite's: its connection goes with the test
        huey.storage.close()
    if app_redis_url:
        forget_redis_keys(app_redis_url, app.config["REDIS_PREFIX"])
        release_connections()


@pytest.fixture
def plain_session(database_template, tmp_path):
    """A SQLAlchemy session on the migrated test database and no app: for the stages that are
    given their session (imports/undo.py, imports/report.py)."""
    if POSTGRES_URL:
        engine = create_engine(database_template)
    else:
        shutil.copy(database_template, tmp_path / "plain.db")
        engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    assert not has_app_context()  # what the stages get is all they have
    with Session(engine) as session:
        yield session
    if POSTGRES_URL:
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                        r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on the page at `url`, read as a browser would."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token, **extra})


@pytest.fixture
def login_as(app, client):
    """login_as("admin") or login_as("staff"): create that staff member and sign the client in."""

    def login(role: str = "staff", **fields):
        user = make_staff(role=role, password=PASSWORD, **fields)
        response = sign_in(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


@pytest.fixture
def run_jobs(app):
    """Work the real job queue until it is empty, as the worker would; returns the tasks run."""

    def run(limit: int = 1000) -> int:
        done = 0
        while done < limit:
            task = huey.dequeue()
            if task is None:
                return done
            huey.execute(task)
            done += 1
        raise AssertionError("the job queue did not run empty")

    return run


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""
    yield from _collecting_smtp_server()


@pytest.fixture
def ascii_smtp_server():
    """The same without SMTPUTF8 (which aiosmtpd offers by default): it takes no address whose
    local part is not ASCII (RFC 6531)."""
    yield from _collecting_smtp_server(enable_SMTPUTF8=False)


def _collecting_smtp_server(**options):
    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    handler = Collector()
    with socket.socket() as probe:  # aiosmtpd needs a known port to check it is up
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, **options)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def live_server(app):
    """The app served over HTTP on a loopback port, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail(f"Chromium is needed for the browser tests and is not at {chromium}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """screenshot("name") saves the page under test-output/screenshots/."""

    def take(name: str) -> Path:
        folder = OUTPUT / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
