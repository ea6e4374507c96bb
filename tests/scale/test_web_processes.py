"""Two gunicorn worker processes on one Redis and one database: the sign-in throttle counts
across both, and a job started in one shows its progress in the other.

gunicorn's sync workers share one listening socket, so which process takes a request is up to
the kernel. `Occupied` makes it certain: a request whose headers never end keeps one worker
busy, and the next requests go to the other.
"""

import http.cookiejar
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from shopadmin.imports.models import ImportStatus

from ..conftest import PASSWORD
from ..factories import make_staff
from .conftest import free_port, shared_env, wait_for
from .test_job_workers import job_now, previewed, upload, worksheet

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ACCESS_LOG_FORMAT = '%(p)s "%(r)s" %(s)s'


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One visitor: its own cookies, a new connection per request (as gunicorn's sync workers
    answer: one request each)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def request(self, path: str, form: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()

    def token(self, path: str) -> str:
        status, page = self.request(path)
        assert status == 200, (path, status)
        return CSRF.search(page).group(1)

    def sign_in(self, email: str, password: str) -> int:
        token = self.token("/login")
        return self.request("/login", {"csrf_token": token, "email": email,
                                       "password": password})[0]


class Occupied:
    """Keeps one sync gunicorn worker busy with a request whose headers do not end yet."""

    def __init__(self, port: int):
        self.connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.connection.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.3)  # taken by whichever worker is free

    def release(self) -> None:
        self.connection.sendall(b"Connection: close\r\n\r\n")
        while self.connection.recv(65536):
            pass
        self.connection.close()


@pytest.fixture
def gunicorn(processes, app, tmp_path):
    """start(**environment) -> (base URL, port, process): real gunicorn, two worker processes."""

    def start(**environment: str):
        port = free_port()
        access_log = tmp_path / f"access-{port}.log"
        process = processes.start(f"gunicorn-{port}", [
            sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "2",
            "--bind", f"127.0.0.1:{port}", "--access-logfile", str(access_log),
            "--access-logformat", ACCESS_LOG_FORMAT], shared_env(app, **environment))
        process.access_log = access_log
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return Browser(base).request("/login")[0] == 200
            except (ConnectionError, urllib.error.URLError):
                return False

        wait_for(answers, 30, "gunicorn to answer")
        return base, port, process

    return start


def served_by(process, method: str, path: str) -> list[str]:
    """The worker pids that answered `method path`, in order, from the access log."""
    pattern = re.compile(rf'^<(\d+)> "{method} {re.escape(path)}(?:\?\S*)? HTTP/1\.1" \d+$', re.M)
    return pattern.findall(process.access_log.read_text())


def test_two_web_workers_throttle_failed_sign_ins_as_one(app, gunicorn):
    staff = make_staff()
    base, port, server = gunicorn(SHOPADMIN_LOGIN_LIMIT_ACCOUNT="4/15 minutes")
    answers = []
    first = Occupied(port)  # one worker busy: the other answers three wrong passwords
    answers += [Browser(base).sign_in(staff.email, "wrong password") for _ in range(3)]
    second = Occupied(port)  # now that other one is busy ...
    first.release()  # ... and the first answers the next three
    answers += [Browser(base).sign_in(staff.email, "wrong password") for _ in range(3)]
    answers.append(Browser(base).sign_in(staff.email, PASSWORD))  # the right one, too late
    second.release()

    # Four failures allowed per account in all, not four per process.
    assert answers == [200, 200, 200, 200, 429, 429, 429]
    pids = served_by(server, "POST", "/login")
    assert len(pids) == 7
    assert len(set(pids[:3])) == len(set(pids[3:6])) == 1 and pids[0] != pids[3], pids


def test_a_job_started_in_one_web_worker_shows_its_progress_in_the_other(
        app, client, login_as, processes, gunicorn):
    login_as("staff")
    rows = 24_000
    import_id = upload(client, worksheet("east", rows), "east.csv")
    processes.worker("worker", app)
    previewed(client, import_id)
    staff = make_staff()
    base, port, server = gunicorn()
    browser = Browser(base)
    assert browser.sign_in(staff.email, PASSWORD) == 302

    other = Occupied(port)
    token = browser.token(f"/imports/{import_id}")
    assert browser.request(f"/imports/{import_id}/apply", {"csrf_token": token})[0] == 302
    starter = Occupied(port)  # the worker that started the job is busy from here on
    other.release()
    readings = []

    def progress() -> bool:
        status, body = browser.request(f"/imports/{import_id}/status")
        assert status == 200
        readings.append(json.loads(body))
        return readings[-1]["finished"]

    wait_for(progress, 120, "the import to finish", interval=0.02)
    starter.release()

    assert job_now(import_id).status == ImportStatus.READY
    percents = [reading["percent"] for reading in readings]
    assert percents == sorted(percents) and percents[-1] == 100
    assert any(0 < reading["percent"] < 100 for reading in readings), percents
    started_in = served_by(server, "POST", f"/imports/{import_id}/apply")
    shown_in = set(served_by(server, "GET", f"/imports/{import_id}/status"))
    assert len(started_in) == 1 and shown_in and started_in[0] not in shown_in
