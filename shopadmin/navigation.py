"""The main navigation of the whole product; entries appear as their blueprints are registered."""

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .auth.rights import Right, may

NAVIGATION = [
    ("customers.index", _l("Customers"), None),
    ("orders.index", _l("Orders"), None),
    ("imports.index", _l("Import/Export"), None),
    ("notifications.mail_log", _l("Mails"), None),
    ("settings.index", _l("Settings"), Right.ADMINISTER),
]


def nav_items() -> list[tuple[str, str]]:
    return [
        (endpoint, label)
        for endpoint, label, right in NAVIGATION
        if endpoint in current_app.view_functions and (right is None or may(current_user, right))
    ]


def register(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
