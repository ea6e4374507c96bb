"""The main navigation of the whole product; entries appear as their blueprints are registered."""

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

NAVIGATION = [
    ("customers.index", _l("Customers"), False),
    ("orders.index", _l("Orders"), False),
    ("imports.index", _l("Import/Export"), False),
    ("notifications.mail_log", _l("Mails"), False),
    ("settings.index", _l("Settings"), True),
]


def nav_items() -> list[tuple[str, str]]:
    admin = current_user.is_authenticated and current_user.is_admin
    return [
        (endpoint, label)
        for endpoint, label, admin_only in NAVIGATION
        if endpoint in current_app.view_functions and (admin or not admin_only)
    ]


def register(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
