"""The dashboard at /: a few live figures about the register."""

import time
from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func

from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..jobs import last_heartbeat
from ..settings.services import get_setting

bp = Blueprint("dashboard", __name__)
# The worker says it is alive every minute; past two minutes of silence it is reported missing.
WORKER_SILENCE_SECONDS = 150


def register_figures() -> dict[str, int]:
    live = Customer.deleted_at.is_(None)

    def count(*conditions) -> int:
        return db.session.scalar(db.select(func.count(Customer.id)).where(live, *conditions))

    return {
        "customers": count(),
        "new_this_week": count(Customer.created_at >= utcnow() - timedelta(days=7)),
        "waiting_for_approval": count(Customer.approved.is_(False)),
    }


@bp.route("/")
def index():
    seen = last_heartbeat()
    recent = seen is not None and time.time() - seen < WORKER_SILENCE_SECONDS
    return render_template(
        "dashboard/index.html",
        figures=register_figures(),
        worker_seen=datetime.fromtimestamp(seen, UTC) if recent else None,
        now=utcnow(),
        # Admins are asked to require a second factor while the store does not.
        ask_for_two_factor=(current_user.is_admin
                            and get_setting("require_two_factor") == "off"),
    )
