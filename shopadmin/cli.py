"""flask commands: setup, serve, worker, users."""

import functools
import logging
import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from .access_log import gunicorn_command
from .auth import services as auth_services
from .auth.models import Role, StaffUser
from .domain import DomainError
from .extensions import db, huey
from .serving import limits_problem

users_cli = AppGroup("users", help="Staff accounts.")

# `serve` starts a job worker that died again, unless it died this often this quickly (then
# something is wrong that a restart does not mend, and the operator must read its log).
WORKER_RESTARTS_AT_MOST = 5
WORKER_RESTART_WINDOW = 60  # seconds


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
@click.option("--name", default="")
@click.option("--password", help="Leave out to be asked, or to generate one when not interactive.")
def create_user(email: str, role: str, name: str, password: str | None):
    """Create a staff account."""
    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "Password (empty: generate one)", default="", hide_input=True,
            confirmation_prompt=True, show_default=False,
        ) or None
    try:
        user, clear = auth_services.create_staff_user(email, role=Role(role), name=name,
                                                      password=password)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")
    if password is None:
        click.echo(f"One-time password (to be changed at first sign-in): {clear}")


@users_cli.command("list")
def list_users():
    """List the staff accounts."""
    for user in db.session.scalars(db.select(StaffUser).order_by(StaffUser.email)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{state}\t{user.name}")


@users_cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor(email: str):
    """Remove a staff member's second factor (the last admin lost the phone and the codes)."""
    from .auth import two_factor

    user = auth_services.find_user(email)
    if user is None:
        raise click.ClickException(f"No staff account {email}")
    two_factor.reset(user, actor=None)
    db.session.commit()
    click.echo(f"Two-factor sign-in of {user.email} removed; their sessions ended")


@click.command("setup")
@with_appcontext
def setup_command():
    """Apply migrations and make sure a first admin exists (idempotent)."""
    from flask_migrate import upgrade  # (with Alembic: only here, see extensions.Migrations)
    from sqlalchemy import inspect

    from .imports import deferred
    from .settings.models import Setting

    if inspect(db.engine).has_table(Setting.__tablename__):
        # Indexes an import that died had set aside are built first, in the schema they were
        # read from: a migration may drop, rename or change them.
        deferred.restore()
        db.session.commit()
    upgrade(directory=current_app.extensions["migrate"].directory)
    created = auth_services.ensure_first_admin(
        os.environ.get("SHOPADMIN_ADMIN_EMAIL"), os.environ.get("SHOPADMIN_ADMIN_PASSWORD")
    )
    db.session.commit()
    if created:
        user, password = created
        click.secho("First administrator created:", fg="green")
        click.echo(f"  e-mail:   {user.email}")
        if not os.environ.get("SHOPADMIN_ADMIN_PASSWORD"):
            click.echo(f"  password: {password}   (one-time: you choose your own at sign-in)")


@click.command("worker")
@click.option("--workers", default=2, show_default=True)
@with_appcontext
def worker_command(workers: int):
    """Run the background job worker (Huey consumer)."""
    from .worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(current_app._get_current_object(), huey, workers)  # type: ignore[attr-defined]  # a proxy


@click.command("serve")
@click.option("--bind", default=lambda: os.environ.get("SHOPADMIN_BIND", "127.0.0.1:5000"),
              show_default="127.0.0.1:5000")
@click.option("--threads", default=8, show_default=True)
@click.option("--workers", type=click.IntRange(1),
              default=lambda: int(os.environ.get("SHOPADMIN_WEB_WORKERS", "1")),
              show_default="1", help="Web worker processes; more than one needs REDIS_URL.")
def serve_command(bind: str, threads: int, workers: int):
    """Serve the back office with gunicorn, and its job worker beside it, until Ctrl-C. A job
    worker that dies (killed, out of memory) is started again, and its jobs resume."""
    problem = limits_problem(workers, current_app.config.get("REDIS_URL"))
    if problem:
        raise click.ClickException(problem)
    worker_command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    worker = subprocess.Popen(worker_command)
    web = subprocess.Popen(gunicorn_command(sys.executable, bind, threads, workers))
    click.secho(f"shopadmin on http://{bind}/ (job worker pid {worker.pid}); Ctrl-C stops both.",
                fg="green")
    stopping = []
    # Ctrl-C reaches the whole process group; SIGTERM (a service manager) reaches only us.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    restarts: list[float] = []
    # gunicorn's master restarts its own workers; when it is gone, so is the back office.
    while not stopping and web.poll() is None:
        time.sleep(0.3)
        if stopping or worker.poll() is None:
            continue
        now = time.monotonic()
        restarts = [moment for moment in restarts if now - moment < WORKER_RESTART_WINDOW]
        if len(restarts) >= WORKER_RESTARTS_AT_MOST:
            click.secho(f"The job worker stopped {len(restarts) + 1} times within "
                        f"{WORKER_RESTART_WINDOW} s (last exit status {worker.returncode}); "
                        "stopping the back office. Its log above says why.", fg="red", err=True)
            break
        restarts.append(now)
        status = worker.returncode
        worker = subprocess.Popen(worker_command)
        click.secho(f"The job worker stopped (exit status {status}); "
                    f"started again (pid {worker.pid}): its jobs resume where they stopped.",
                    fg="yellow", err=True)
    for child in (worker, web):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in (worker, web):
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


@click.command("demo-data")
@click.option("--customers", "customers", default=0, show_default=True,
              help="How many demo customers to add.")
@click.option("--orders", "orders", default=0, show_default=True,
              help="How many demo orders to add, for the customers and some guests.")
@click.option("--seed", default=2026, show_default=True)
@with_appcontext
def demo_data_command(customers: int, orders: int, seed: int) -> None:
    """Fill the register with realistic demo customers (names of de, fr, pl, en countries)
    and their orders."""
    import random

    from .customers.demo import generate_customers
    from .orders.demo import generate_orders

    started = time.monotonic()
    with click.progressbar(length=customers, label="Customers") as bar:
        generate_customers(customers, seed=seed, progress=bar.update)
    elapsed = time.monotonic() - started
    click.echo(f"{customers:,} customers in {elapsed:.1f} s "
               f"({customers / max(elapsed, 1e-9):,.0f} per second).")
    if orders:
        started = time.monotonic()
        generate_orders(orders, random.Random(seed))
        db.session.commit()
        click.echo(f"{orders:,} orders in {time.monotonic() - started:.1f} s.")


def explain_database_errors(command: click.Command) -> None:
    """A command (and every command of a group) whose database is down, unreachable, full or
    locked ends with the driver's one-line reason and the database it was, its password left
    out, instead of a traceback."""
    if isinstance(command, click.Group):
        for child in command.commands.values():
            explain_database_errors(child)
    run = command.callback
    if run is None or getattr(run, "explains_database_errors", False):
        return

    @functools.wraps(run)
    def explained(*args, **kwargs):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import OperationalError

        from .database import driver_reason

        try:
            return run(*args, **kwargs)
        except OperationalError as error:
            reason = driver_reason(error)
            # (the command's app context has ended with the error: the CLI's app is cached)
            info = click.get_current_context().ensure_object(ScriptInfo)
            where = make_url(info.load_app().config["SQLALCHEMY_DATABASE_URI"])
            raise click.ClickException(
                f"The database did not answer: {reason}\n"
                f"  database: {where.render_as_string(hide_password=True)} (DATABASE_URL)"
            ) from error

    explained.explains_database_errors = True  # type: ignore[attr-defined]
    command.callback = explained


def register(app: Flask) -> None:
    from .exports.cli import customers_export_command
    from .imports.cli import customers_cli
    from .orders.cli import orders_cli

    customers_cli.add_command(customers_export_command)
    app.cli.add_command(customers_cli)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(orders_cli)
    app.cli.add_command(setup_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(serve_command)
    for command in (customers_cli, demo_data_command, users_cli, orders_cli, setup_command,
                    worker_command):
        explain_database_errors(command)
