"""What a command's start loads: Alembic (Flask-Migrate) only for the commands that migrate,
psycopg only where PostgreSQL is configured; `flask db` and the migrations work as before."""

import os
import subprocess
import sys

from shopadmin.config import PROJECT_ROOT

HEAVY = ("alembic", "flask_migrate", "psycopg")


def _loaded_by(code: str, tmp_path) -> list[str]:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("DATABASE_URL", "REDIS_URL")}
    environment["SHOPADMIN_INSTANCE_PATH"] = str(tmp_path)
    code += ("\nimport sys\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, env=environment, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_an_app_on_sqlite_loads_neither_alembic_nor_psycopg(tmp_path):
    assert _loaded_by("from shopadmin import create_app\ncreate_app()", tmp_path) == "[]"


def test_the_migrating_commands_load_alembic_when_run(tmp_path):
    code = ("from shopadmin import create_app\n"
            "app = create_app()\n"
            "result = app.test_cli_runner().invoke(args=['db', 'heads'])\n"
            "assert result.exit_code == 0, result.output\n"
            "print(result.output)")
    assert _loaded_by(code, tmp_path) == "['alembic', 'flask_migrate']"


def test_flask_db_lists_and_runs_flask_migrates_commands(app, runner):
    listing = runner.invoke(args=["db", "--help"])
    assert listing.exit_code == 0, listing.output
    assert "upgrade" in listing.output and "downgrade" in listing.output
    current = runner.invoke(args=["db", "current"])
    assert current.exit_code == 0, current.output
    assert "Context impl" in current.output  # (Alembic's, on the app's database)
    assert app.extensions["migrate"].directory == str(PROJECT_ROOT / "migrations")


def test_the_app_lists_db_among_its_commands(runner):
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0 and "db " in result.output and "customers" in result.output
