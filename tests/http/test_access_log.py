"""The request log of the real server (gunicorn, as `flask serve` runs it) holds no link token."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from shopadmin.access_log import gunicorn_command

from ..conftest import POSTGRES_URL, REDIS_URL, forget_redis_keys

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zs9w-Q3kVb2T1dN8fXo7LmPa4RcYh6Ue5Jg0iWt"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> int:
    request = urllib.request.Request(url, headers={"Referer": url})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(request, timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_gunicorn_logs_the_reset_link_without_its_token(database_template, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {**os.environ, "SHOPADMIN_INSTANCE_PATH": str(instance), "SECRET_KEY": "log test",
           "SHOPADMIN_REDIS_PREFIX": f"shopadminlogtest{uuid.uuid4().hex[:12]}"}
    if POSTGRES_URL:
        env["DATABASE_URL"] = database_template  # the migrated test database
    else:
        shutil.copy(database_template, instance / "shopadmin.db")
    port = _free_port()
    server = subprocess.Popen(gunicorn_command(sys.executable, f"127.0.0.1:{port}", 2),
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                status = _get(f"{base}/account/reset/{TOKEN}?lang=pl")
                break
            except (ConnectionError, urllib.error.URLError):  # not listening yet
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start")
        assert status == 302
        assert _get(f"{base}/login") == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
        if REDIS_URL:
            forget_redis_keys(REDIS_URL, env["SHOPADMIN_REDIS_PREFIX"])
    assert "/login" in output, output  # the access log is on
    assert "GET /account/reset/[redacted]?lang=pl HTTP/1.1" in output
    assert TOKEN not in output
