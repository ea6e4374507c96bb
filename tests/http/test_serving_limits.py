"""Several web worker processes never count the rate limits apart: without REDIS_URL, `flask
serve` and gunicorn refuse to start more than one."""

import os
import subprocess
import sys
from pathlib import Path

from shopadmin.access_log import gunicorn_command
from shopadmin.serving import limits_problem

ROOT = Path(__file__).resolve().parents[2]


def test_flask_serve_refuses_several_workers_without_redis(app, runner):
    app.config["REDIS_URL"] = ""
    result = runner.invoke(args=["serve", "--workers", "4", "--bind", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "4 web worker processes would each count the rate limits" in result.output
    assert "Set REDIS_URL" in result.output


def test_flask_serve_reads_the_worker_count_from_the_environment(app, runner, monkeypatch):
    app.config["REDIS_URL"] = ""
    monkeypatch.setenv("SHOPADMIN_WEB_WORKERS", "2")
    result = runner.invoke(args=["serve"])
    assert result.exit_code == 1 and "2 web worker processes" in result.output


def test_one_worker_or_redis_is_fine():
    assert limits_problem(1, "") is None
    assert limits_problem(8, "redis://redis:6379/0") is None


def _run_gunicorn(command: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(SHOPADMIN_INSTANCE_PATH=str(tmp_path), SECRET_KEY="serving test")
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_gunicorn_as_flask_serve_runs_it_refuses_several_workers(tmp_path):
    command = gunicorn_command(sys.executable, "127.0.0.1:1", 2, workers=3)
    result = _run_gunicorn(command, tmp_path)
    assert result.returncode == 1
    assert "3 web worker processes would each count the rate limits" in result.stderr


def test_gunicorn_started_by_hand_in_the_checkout_refuses_too(tmp_path):
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "4",
               "--bind", "127.0.0.1:1"]
    result = _run_gunicorn(command, tmp_path)
    assert result.returncode == 1
    assert "4 web worker processes" in result.stderr
