"""Where the password mails appear in the register: the customer page and the list's bulk
actions."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..customers.bulk import BulkAction, register_action
from ..customers.routes import register_customer_panel
from . import services


def _start_batch(ids: list[int], actor, params: dict) -> str:
    origin = "filter" if params.get("scope") == "all" else "selection"
    batch = services.send_password_mails(ids, actor, origin=origin)
    return url_for("notifications.batch", batch_id=batch.id)


def register() -> None:
    register_customer_panel("notifications/_send_password_button.html", action=True)
    register_customer_panel("notifications/_customer_mails.html")
    register_action(BulkAction("send_password", _l("Send password mail"), lambda *a: 0,
                               start=_start_batch))
