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


def _flask(arguments: list[str], instance, check: bool = True) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("DATABASE_URL", "REDIS_URL")}
    environment["SHOPADMIN_INSTANCE_PATH"] = str(instance)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *arguments],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=environment,
                          check=check)


def test_only_the_pageless_commands_go_without_pages():
    from shopadmin import pageless_command

    assert pageless_command(["flask", "--app", "wsgi", "customers", "import", "a.csv"])
    assert pageless_command(["flask", "customers", "import", "--dry-run", "a.csv"])
    assert not pageless_command(["flask", "--app", "wsgi", "customers", "export", "-o", "x"])
    assert not pageless_command(["flask", "--app", "wsgi", "worker"])
    assert not pageless_command(["flask", "import", "customers"])
    assert not pageless_command(["gunicorn", "wsgi:app"])


def test_the_import_commands_app_loads_no_pydantic(tmp_path):
    """The API's error answers (orders/api_errors, with pydantic) are loaded with the first
    error answered, not by every command's start."""
    code = ("import sys\nsys.argv = ['flask', '--app', 'wsgi', 'customers', 'import', 'x.csv']\n"
            "from shopadmin import create_app\ncreate_app()\n"
            "print('pydantic' in sys.modules, 'shopadmin.orders.api_errors' in sys.modules)")
    environment = {**os.environ, "SHOPADMIN_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, env=environment, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_the_import_command_runs_without_pages_and_reports_as_before(tmp_path):
    """`flask customers import` builds its app without the blueprints and imports, warns and
    rejects as the pages' import does."""
    code = ("import sys\nsys.argv = ['flask', '--app', 'wsgi', 'customers', 'import', 'x.csv']\n"
            "from shopadmin import create_app\napp = create_app()\n"
            "print(sorted(app.blueprints), 'import' in app.cli.commands['customers'].commands)")
    environment = {**os.environ, "SHOPADMIN_INSTANCE_PATH": str(tmp_path / "lean")}
    listing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=PROJECT_ROOT, env=environment, check=True)
    assert listing.stdout.strip().splitlines()[-1] == "[] True"
    worksheet = tmp_path / "customers.csv"
    worksheet.write_text("email,first name,last name,birth date\n"
                         "ada@example.com,Ada,Lovelace,1985-12-10\n"
                         "bob@example.com,Bob,Builder,31.02.1980\n"
                         "ADA@example.com,Eve,Example,\n", encoding="utf-8")
    instance = tmp_path / "instance"
    _flask(["setup"], instance)
    result = _flask(["customers", "import", str(worksheet)], instance)
    assert "customers were created: 2" in result.stdout, result.stdout + result.stderr
    assert "rejected rows: 1; imported with warnings: 1" in result.stdout
    assert "row 3 (warning)" in result.stdout and "row 4 (rejected)" in result.stdout
    # The command's process closed its connections as it ended (imports/cli._end_quickly): on
    # SQLite the last one copied the log into the database file and removed it.
    assert sorted(path.name for path in instance.glob("*.db*")) == ["jobs.db", "shopadmin.db"]
