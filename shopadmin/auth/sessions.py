"""Who is signed in: Flask-Login bound to server-side session rows, default-deny on every page."""


from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db, login_manager

SESSION_KEY = "staff_session"


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # the server-side session row does this job


@login_manager.user_loader
def load_user(user_id: str):
    """The user whose session row the cookie names; a revoked or expired row signs nobody in."""
    from .services import user_for_session

    token = session.get(SESSION_KEY)
    if not token:
        return None
    user = user_for_session(token, int(user_id))
    if db.session.dirty:  # the session row marked as seen: kept at once, before the view runs
        db.session.commit()
    return user


def public(view):
    """Mark a view as reachable without signing in."""
    view.public = True
    return view


PUBLIC_ENDPOINTS = {"static"}


def require_sign_in():
    """Every page needs a signed-in staff member unless its view is marked public."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password:
        if endpoint not in (
            "auth.profile", "auth.change_password", "auth.logout", "auth.set_language"
        ):
            flash(_("Please choose a new password before you go on."), "warning")
            return redirect(url_for("auth.profile"))
        return None  # the password first, then (when required) the second factor
    from .two_factor_routes import setup_required_redirect

    return setup_required_redirect()
