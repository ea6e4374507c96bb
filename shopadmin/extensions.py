"""The extension objects, created unbound and initialised by create_app()."""

from typing import TYPE_CHECKING, Any, ClassVar

from flask import request
from flask.cli import AppGroup
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from ._huey import Huey, MemoryStorage, RedisStorage, SqliteStorage

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:  # every model here is mapped to a Table (SQLAlchemy types a FromClause)
        __table__: ClassVar[Table]


def client_address() -> str:
    """The client's address as ProxyFix left it: a forged X-Forwarded-For is not trusted."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
# The models' base class. At run time it is db.Model (Base with Flask-SQLAlchemy's mixins, built
# when db is); mypy cannot subclass an attribute, so to it the base is the typed Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
babel = Babel()
mail = Mail()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address)

# An unconfigured queue in memory until init_huey() points it at SQLite or Redis, so that
# importing the task module opens no database.
huey = Huey("shopadmin", storage_class=MemoryStorage, utc=True)


class Migrations:
    """app.extensions["migrate"] until Flask-Migrate is wanted: it loads Alembic (0.1 s of
    every command's start), which only `flask db`, `flask setup` and the tests' migrations
    need. The first use of anything but the folder sets Flask-Migrate up for the app, which
    then holds Flask-Migrate's own entry (and its `db` commands)."""

    def __init__(self, app, directory: str):
        self.app, self.directory = app, directory

    def load(self) -> Any:
        if self.app.extensions.get("migrate") is self:
            from flask_migrate import Migrate

            Migrate(self.app, db, directory=self.directory, render_as_batch=True)
        return self.app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:  # (only for what __init__ does not set)
        return getattr(self.load(), name)


class Commands(AppGroup):
    """The app's commands, with Flask-Migrate's `db` group loaded when it is asked for."""

    migrations: Migrations | None = None

    def get_command(self, ctx, cmd_name):
        if cmd_name == "db" and "db" not in self.commands and self.migrations is not None:
            self.migrations.load()  # (which adds the group)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), "db"})


def init_migrations(app, directory: str) -> None:
    """Migrations from `directory`, with Flask-Migrate loaded when first used (Migrations)."""
    commands = Commands(app.cli.name)
    commands.commands.update(app.cli.commands)
    commands.migrations = app.extensions["migrate"] = Migrations(app, directory)
    app.cli = commands


def init_limiter(app) -> None:
    """Rate limits in memory, or in Redis under the configured prefix when REDIS_URL is set."""
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
            "key_prefix": f"{app.config['REDIS_PREFIX']}:limits",
        }
    limiter.init_app(app)


def init_huey(app) -> None:
    """Point the job queue at Redis when REDIS_URL is set, else at SQLite in the instance folder."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.name = app.config["REDIS_PREFIX"]
        huey.storage_class = RedisStorage
        # HUEY_REDIS_BLOCKING off: an empty queue answers at once instead of after a second's
        # wait (the tests work the queue themselves).
        huey.storage_kwargs = {"url": redis_url,
                               "blocking": app.config.get("HUEY_REDIS_BLOCKING", True)}
    else:
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": app.config["HUEY_SQLITE_PATH"], "timeout": 30}
    huey.storage = huey.create_storage()


def release_connections() -> None:
    """Close the job queue's and the rate limits' Redis connections (an app that is done with,
    as each test's is: left to the garbage collector, their sockets close at a random moment)."""
    pool = getattr(huey.storage, "pool", None)
    if pool is not None:
        pool.disconnect()
    client = getattr(getattr(limiter, "_storage", None), "storage", None)
    if client is not None and hasattr(client, "connection_pool"):
        client.connection_pool.disconnect()
