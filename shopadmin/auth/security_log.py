"""The security log: sign-ins that succeeded, failed or were throttled, and refused pages.

Kept as audit events (action "auth.*", object the staff account when one is known) with the
e-mail address as typed and the client's address, and shown to admins at
/settings/security-log.
"""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..audit import AuditEvent, record_event
from ..extensions import client_address, db
from ..registry import registry
from ..routing import requested_page
from .models import StaffUser
from .rights import Right, requires
from .routes import bp

SIGN_IN = "auth.sign_in"
SIGN_IN_FAILED = "auth.sign_in_failed"
THROTTLED = "auth.throttled"
FORBIDDEN = "auth.forbidden"
CODE_FAILED = "auth.code_failed"
RECOVERY_USED = "auth.recovery_code_used"
TWO_FACTOR_ON = "auth.two_factor_enabled"
TWO_FACTOR_OFF = "auth.two_factor_disabled"
TWO_FACTOR_RESET = "auth.two_factor_reset"
ACTION_LABELS = {
    SIGN_IN: _l("Signed in"),
    SIGN_IN_FAILED: _l("Sign-in failed"),
    THROTTLED: _l("Sign-in throttled"),
    FORBIDDEN: _l("Access refused"),
    CODE_FAILED: _l("Wrong two-factor code"),
    RECOVERY_USED: _l("Recovery code used"),
    TWO_FACTOR_ON: _l("Two-factor sign-in set up"),
    TWO_FACTOR_OFF: _l("Two-factor sign-in removed"),
    TWO_FACTOR_RESET: _l("Two-factor sign-in reset by an admin"),
}
PER_PAGE = 50
SETTINGS_LINK = ("auth.security_log", _l("Security log"))


def record_security_event(action: str, email: str, *, user: StaffUser | None = None,
                          actor: StaffUser | None = None) -> None:
    """Add an event about the current request to the session; the caller commits. `user` is
    the account concerned, `actor` who acted when that is someone else (an admin)."""
    record_event(action, "staff_user", user.id if user else None, actor=actor or user,
                 changes={"email": (email or "").strip()[:254], "address": client_address(),
                          "path": request.path[:500], "method": request.method})


def record_in_own_transaction(action: str, email: str, *, user: StaffUser | None = None):
    """For error pages: whatever the request left unsaved is dropped, the event is kept."""
    try:
        db.session.rollback()
        record_security_event(action, email, user=user)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def record_throttled() -> None:
    """A sign-in refused by the rate limit, before the password was even looked at."""
    from .services import find_user

    email = request.form.get("email", "")
    if not email:  # the code step: the account whose password was right
        from .two_factor_routes import pending_user

        pending = pending_user()
        email = pending.email if pending else ""
    record_in_own_transaction(THROTTLED, email, user=find_user(email) if email else None)


def record_refusal() -> None:
    """A 403: who was refused which page."""
    user = current_user if current_user.is_authenticated else None
    record_in_own_transaction(FORBIDDEN, user.email if user else "",
                              user=db.session.get(StaffUser, user.id) if user else None)


def init_app(app) -> None:
    registry(app).add_settings_link(*SETTINGS_LINK)


@bp.route("/settings/security-log")
@requires(Right.ADMINISTER)
def security_log():
    action = request.args.get("action", "")
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc())
    if action in ACTION_LABELS:
        query = query.where(AuditEvent.action == action)
    else:
        query = query.where(AuditEvent.action.in_(list(ACTION_LABELS)))
    pagination = db.paginate(query, page=requested_page(), per_page=PER_PAGE, error_out=False)
    return render_template("auth/security_log.html", pagination=pagination, action=action,
                           labels=ACTION_LABELS)
