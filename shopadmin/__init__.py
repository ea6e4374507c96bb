"""shopadmin: a back office for a shop's customer register.

Importing the package loads no Flask: the import's stages and the reading process use modules of
it that need none (see imports/)."""

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import PROJECT_ROOT, build_config, instance_path

if TYPE_CHECKING:
    from flask import Flask

# `flask` commands that show no page and make no link: the app they run in goes without the
# blueprints (their views, forms and the API's schemas), which took a third of the start of
# `flask customers import` (bench/imports_cli.py). Their hooks into the other parts
# (register_extension_points) stay.
PAGELESS_COMMANDS = (("customers", "import"),)


def pageless_command(argv: Sequence[str]) -> bool:
    """Whether this process runs one of PAGELESS_COMMANDS (its words in a row on the command
    line, as `flask --app wsgi customers import FILE` has them)."""
    words = list(argv[1:])
    return any(list(command) == words[index:index + len(command)]
               for command in PAGELESS_COMMANDS for index in range(len(words)))


def command_file(argv: Sequence[str]) -> str | None:
    """The file a pageless command names (`customers import FILE`): the one existing file
    among the words after the command's (None: none, or several; the reading process checks
    that what it counted is what the command then reads)."""
    words = list(argv[1:])
    after = next((index + len(command) for command in PAGELESS_COMMANDS
                  for index in range(len(words))
                  if list(command) == words[index:index + len(command)]), len(words))
    files = [word for word in words[after:] if not word.startswith("-") and Path(word).is_file()]
    return files[0] if len(files) == 1 else None


def create_app(test_config: dict | None = None) -> "Flask":
    """Build the application: configuration, extensions, blueprints, CLI and error pages."""
    from flask import Flask

    from .request_limits import LimitedRequest
    from .routing import register_converters

    pageless = test_config is None and pageless_command(sys.argv)
    if pageless:  # (the import's reading process starts up beside this one: reading.py)
        from .imports.reading import start_reading_early

        start_reading_early(command_file(sys.argv))
    folder = Path((test_config or {}).get("INSTANCE_PATH") or instance_path())
    folder.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(folder),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = LimitedRequest
    app.config.update(build_config(folder))
    if test_config:
        app.config.update(test_config)

    register_extensions(app)
    register_converters(app)
    if pageless:
        register_extension_points(app)
    else:
        register_blueprints(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_proxy(app)
    return app


def register_extensions(app: "Flask") -> None:
    from . import models  # noqa: F401  (every table known to Alembic)
    from .auth.sessions import init_login
    from .extensions import csrf, db, init_huey, init_limiter, init_migrations, mail
    from .i18n import init_babel

    db.init_app(app)
    init_migrations(app, str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    init_limiter(app)
    mail.init_app(app)
    init_babel(app)
    init_login(app)
    init_huey(app)
    from . import jobs

    jobs.bind_app(app)


def register_blueprints(app: "Flask") -> None:
    from . import retention  # noqa: F401  (its daily job)
    from .account.routes import bp as account_bp
    from .auth import security_log, two_factor_routes  # noqa: F401  (views onto auth's bp)
    from .auth.routes import bp as auth_bp
    from .customers import group_routes, list_routes, privacy_log, routes  # noqa: F401
    from .customers.blueprint import bp as customers_bp
    from .dashboard.routes import bp as dashboard_bp
    from .exports.routes import bp as exports_bp
    from .imports.routes import bp as imports_bp
    from .notifications import mail_routes, template_routes  # noqa: F401  (views onto its bp)
    from .notifications.blueprint import bp as notifications_bp
    from .orders.api import bp as api_bp
    from .orders.routes import bp as orders_bp
    from .orders.routes import customer_bp as customer_orders_bp
    from .orders.routes import keys_bp as api_keys_bp
    from .settings import consent_routes  # noqa: F401  (views onto settings_bp)
    from .settings.routes import bp as settings_bp

    for blueprint in (auth_bp, dashboard_bp, customers_bp, settings_bp, notifications_bp,
                      account_bp, imports_bp, exports_bp, orders_bp, customer_orders_bp,
                      api_keys_bp, api_bp):
        app.register_blueprint(blueprint)
    register_extension_points(app)


def register_extension_points(app: "Flask") -> None:
    """The app's own registry (registry.py), and what each part adds to the others' pages and
    rules. Also run by the bare app of a spawned export process."""
    from . import registry
    from .auth import security_log
    from .customers import bulk, privacy
    from .customers import export as customer_export
    from .imports import hooks as import_hooks
    from .notifications import hooks as notification_hooks
    from .orders import hooks as order_hooks
    from .settings import consent_routes

    registry.init_app(app)
    # In this order: the register's own entries first, then what the other parts add.
    for part in (bulk, privacy, customer_export, consent_routes, security_log, notification_hooks,
                 order_hooks, import_hooks):
        part.init_app(app)


def register_request_hooks(app: "Flask") -> None:
    from .auth.sessions import require_sign_in
    from .routing import refuse_nul_characters
    from .security import set_security_headers

    # First of all hooks: CSRFProtect's check (registered with the extension) reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_characters)
    app.before_request(require_sign_in)
    app.after_request(set_security_headers)


def register_error_handlers(app: "Flask") -> None:
    from .errors import register

    register(app)


def register_template_helpers(app: "Flask") -> None:
    from . import formats, navigation
    from .auth import rights
    from .customers import display
    from .i18n import register_template_helpers as register_i18n
    from .sheets import names

    register_i18n(app)
    formats.register(app)  # after Flask-Babel's filters, which it replaces
    navigation.register(app)
    display.register(app)
    names.register(app)
    rights.register(app)


def register_commands(app: "Flask") -> None:
    from .cli import register

    register(app)


def register_proxy(app: "Flask") -> None:
    """Trust X-Forwarded-* only from as many proxies as configured (none by default)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
        app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
