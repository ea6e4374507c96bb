"""The dashboard at /: what waits for staff, each figure a link to where they act on it."""

import time
from datetime import UTC, datetime

from flask import Blueprint, render_template
from flask_login import current_user

from ..auth.rights import Right, may
from ..database import utcnow
from ..jobs import last_heartbeat
from ..settings.services import get_setting
from .services import needing_attention, register_figures, week_start

bp = Blueprint("dashboard", __name__)
# The worker says it is alive every minute; past two minutes of silence it is reported missing.
WORKER_SILENCE_SECONDS = 150


@bp.route("/")
def index():
    seen = last_heartbeat()
    recent = seen is not None and time.time() - seen < WORKER_SILENCE_SECONDS
    return render_template(
        "dashboard/index.html",
        figures=register_figures(),
        attention=needing_attention(),
        week_start=week_start().isoformat(),
        worker_seen=datetime.fromtimestamp(seen, UTC) if recent and seen is not None else None,
        now=utcnow(),
        # Admins are asked to require a second factor while the store does not.
        ask_for_two_factor=(may(current_user, Right.ADMINISTER)
                            and get_setting("require_two_factor") == "off"),
    )
