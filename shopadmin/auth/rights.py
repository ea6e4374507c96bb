"""What each role may do: the one place that says it.

Every check of a right asks this module: a view through `requires(right)`, a service through
`may(actor, right)`, a template through `may('right')` (the signed-in staff member). A role
that gains or loses a right changes in `GRANTED` alone, and the page that offers an action, the
view that answers it and the service that does it cannot disagree. Everything not named here
(the register, imports and exports, mails, orders, groups) is every signed-in member's work.
"""

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort
from flask_login import current_user

from .models import Role


class Right(enum.StrEnum):
    # Staff accounts, the shop's settings, mail templates, API keys, the security log.
    ADMINISTER = "administer"
    # Approve a customer or set them waiting; a customer created without it waits.
    APPROVE_CUSTOMERS = "approve_customers"
    # Move customers to the trash, restore them, empty the trash.
    REMOVE_CUSTOMERS = "remove_customers"
    # Hand a customer all their data, erase them for good, read the privacy log.
    PRIVACY_REQUESTS = "privacy_requests"
    # Change an order's status.
    CHANGE_ORDERS = "change_orders"
    # Open colleagues' exports and bulk jobs (each member always sees their own).
    SEE_COLLEAGUES_JOBS = "see_colleagues_jobs"


GRANTED: dict[Role, frozenset[Right]] = {
    Role.ADMIN: frozenset(Right),
    Role.STAFF: frozenset(),
}


def may(user: Any, right: Right) -> bool:
    """Whether this staff member (None or anonymous: no one) has the right."""
    if user is None or not user.is_authenticated:
        return False
    return right in GRANTED[user.role]


def requires(right: Right) -> Callable:
    """A view's decorator: 403 unless the signed-in staff member has the right."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not may(current_user, right):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _current_user_may(right: str) -> bool:
    return may(current_user, Right(right))  # a misspelt right fails loudly, not silently


def register(app: Flask) -> None:
    app.jinja_env.globals["may"] = _current_user_may
