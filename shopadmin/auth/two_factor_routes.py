"""Two-factor sign-in pages: the code after the password, set-up and removal from the profile,
and the admins' reset of a colleague's second factor."""

import time

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..settings.services import get_setting
from . import security_log, two_factor
from .forms import CodeForm, ConfirmForm
from .models import StaffUser
from .rights import Right, requires
from .routes import bp, complete_sign_in, limit_per_account, limit_per_address
from .sessions import public

PENDING_KEY = "two_factor_pending"
# The password step is good for this long; after it, the password is asked for again.
PENDING_SECONDS = 300


def ask_for_code(user: StaffUser, next_url: str):
    """The password was right: remember whose code is due (nobody is signed in yet)."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session[PENDING_KEY] = {"user": user.id, "at": int(time.time()), "next": next_url}
    db.session.commit()  # a password hash renewed at this sign-in
    return redirect(url_for("auth.login_code"))


def pending_user() -> StaffUser | None:
    """The staff member whose password was right a moment ago, if their code is still due."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(StaffUser, pending.get("user"))
    return user if user is not None and user.active and user.two_factor_enabled else None


def _pending_account_key() -> str:
    user = pending_user()
    return "account:" + (user.email if user else "")


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limit_per_address()
@limit_per_account(_pending_account_key)
def login_code():
    user = pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "warning")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        used = two_factor.check_code(user, form.code.data)
        if used is None:
            form.code.errors = [_("The code is not correct.")]
            security_log.record_security_event(security_log.CODE_FAILED, user.email, user=user)
            db.session.commit()
            return render_template("auth/login_code.html", form=form), 200
        if used == "recovery":
            security_log.record_security_event(security_log.RECOVERY_USED, user.email, user=user)
        response = complete_sign_in(user, session[PENDING_KEY]["next"])  # a new session
        if used == "recovery":
            left = two_factor.recovery_codes_left(user)
            flash(ngettext("You signed in with a recovery code. %(num)d recovery code is left.",
                           "You signed in with a recovery code. %(num)d recovery codes are left.",
                           left), "warning")
        return response
    return render_template("auth/login_code.html", form=form)


@bp.route("/profile/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Show the QR code and the secret of a new set-up; a right code turns it on."""
    if current_user.two_factor_enabled:
        return redirect(url_for("auth.profile"))
    secret = two_factor.pending_secret(current_user)
    if secret is None:
        secret = two_factor.begin_setup(current_user)
        db.session.commit()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_setup(current_user, form.code.data)
        except DomainError as error:
            apply_to_form(error, form)
        else:
            security_log.record_security_event(security_log.TWO_FACTOR_ON, current_user.email,
                                               user=current_user)
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = two_factor.provisioning_uri(current_user, secret, get_setting("shop_name"))
    return render_template("auth/two_factor_setup.html", form=form, secret=secret,
                           qr=two_factor.qr_svg(uri))


@bp.route("/profile/two-factor/off", methods=["POST"])
def two_factor_off():
    form = CodeForm(prefix="two-factor")
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, form.code.data)
        except DomainError:
            security_log.record_security_event(security_log.CODE_FAILED, current_user.email,
                                               user=current_user)
            db.session.commit()
            flash(_("The code is not correct. Two-factor sign-in stays on."), "danger")
        else:
            security_log.record_security_event(security_log.TWO_FACTOR_OFF, current_user.email,
                                               user=current_user)
            db.session.commit()
            flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
def two_factor_new_codes():
    form = CodeForm(prefix="two-factor")
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(current_user, form.code.data)
        except DomainError:
            security_log.record_security_event(security_log.CODE_FAILED, current_user.email,
                                               user=current_user)
            db.session.commit()
            flash(_("The code is not correct. The recovery codes were not changed."), "danger")
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
    return redirect(url_for("auth.profile"))


@bp.route("/settings/staff/<int:user_id>/reset-two-factor", methods=["POST"])
@requires(Right.ADMINISTER)
def staff_reset_two_factor(user_id: int):
    user = db.session.get(StaffUser, user_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    two_factor.reset(user, actor=current_user)
    security_log.record_security_event(security_log.TWO_FACTOR_RESET, user.email, user=user,
                                       actor=current_user)
    db.session.commit()
    flash(_("Two-factor sign-in of %(email)s was reset; they set it up again at their next "
            "sign-in.", email=user.email), "success")
    return redirect(url_for("auth.staff_edit", user_id=user.id))


# Pages a staff member who must set up two-factor sign-in may still open.
SETUP_ENDPOINTS = {"auth.two_factor_setup", "auth.logout", "auth.set_language"}


def setup_required_redirect():
    """When the store requires a second factor of this staff member and they have none, every
    page but the set-up sends them there (called by sessions.require_sign_in)."""
    if current_user.two_factor_enabled or request.endpoint in SETUP_ENDPOINTS:
        return None
    if not two_factor.is_required(current_user, get_setting("require_two_factor")):
        return None
    flash(_("The shop requires two-factor sign-in. Please set it up before you go on."),
          "warning")
    return redirect(url_for("auth.two_factor_setup"))
