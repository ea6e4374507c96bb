"""Several processes on one Redis and one database: real `flask worker` and gunicorn processes.

These tests run in every leg. Their Redis is REDIS_URL when it is set (CI's third leg), else a
private `redis-server` they start on a free loopback port; without either they are skipped.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ..conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Call condition() until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="session")
def redis_server():
    """The URL of a Redis for these tests: REDIS_URL, or a private redis-server on loopback."""
    if REDIS_URL:
        yield REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs Redis: set REDIS_URL, or install redis-server "
                    "(bash scripts/system-packages.sh redis-server)")
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="shopadmin-redis-") as folder:
        server = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", folder, "--logfile", ""],
            stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        connection = redis.Redis.from_url(url)

        def answers() -> bool:
            try:
                return connection.ping()
            except redis.ConnectionError:
                return False

        try:
            wait_for(answers, 10, "redis-server to answer")
            connection.close()
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture
def app_redis_url(redis_server) -> str:
    return redis_server


def shared_env(app, **extra: str) -> dict:
    """The environment of a process on "another machine": the test app's database, Redis (and
    key prefix), secret key and shared file location, nothing else of the test settings."""
    env = {**os.environ,
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": app.config["REDIS_URL"],
           "SHOPADMIN_REDIS_PREFIX": app.config["REDIS_PREFIX"],
           "SHOPADMIN_INSTANCE_PATH": app.instance_path,
           "SECRET_KEY": app.config["SECRET_KEY"],
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


class Processes:
    """Processes started by a test, each logging into a file; all stopped at its end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        process.log = log
        self.started.append((process, log))
        return process

    def worker(self, name: str, app, threads: int = 1, **environment: str) -> subprocess.Popen:
        """`flask worker`, as an operator starts it on another machine."""
        return self.start(name, [sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                 "--workers", str(threads)], shared_env(app, **environment))

    def stop_all(self) -> None:
        for process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _log in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def log_of(process) -> str:
    return Path(process.log).read_text(errors="replace")


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop_all()
