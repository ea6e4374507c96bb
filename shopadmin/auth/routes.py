"""Sign-in, sign-out, the staff member's profile, and (admins) staff accounts."""


from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import client_address, db, limiter
from ..routing import local_path
from ..text import email_key
from . import security_log, services
from .forms import (
    CodeForm,
    ConfirmForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    StaffCreateForm,
    StaffEditForm,
)
from .models import StaffUser
from .rights import Right, requires
from .sessions import SESSION_KEY, public

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "account:" + email_key(request.form.get("email", ""))


def _failed(response) -> bool:
    """Only failed sign-ins count against the limits: not the sign-ins that went through, nor
    the ones the server could not answer (its database or Redis down: 503)."""
    return response.status_code != 302 and response.status_code < 500


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site."""
    return local_path(target) or url_for("dashboard.index")


# Wrong passwords and wrong two-factor codes count against the same limits (shared scopes).
def limit_per_address():
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="sign-in-address",
        methods=["POST"], deduct_when=_failed)


def limit_per_account(key_func):
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], scope="sign-in-account",
        methods=["POST"], key_func=key_func, deduct_when=_failed)


def complete_sign_in(user: StaffUser, next_url: str):
    """Open the staff member's session (both factors passed) and go on to `next_url`."""
    language = session.get("language")
    session.clear()  # a new session at sign-in: nothing carried over from before
    if language:
        session["language"] = language
    session[SESSION_KEY] = services.start_session(
        user, user_agent=request.user_agent.string, address=client_address()
    )
    session.permanent = True
    login_user(user)
    security_log.record_security_event(security_log.SIGN_IN, user.email, user=user)
    db.session.commit()
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@public
@limit_per_address()
@limit_per_account(_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("The e-mail address or the password is not correct."))
            security_log.record_security_event(security_log.SIGN_IN_FAILED, form.email.data,
                                               user=services.find_user(form.email.data))
            db.session.commit()
        elif user.two_factor_enabled:
            from .two_factor_routes import ask_for_code

            return ask_for_code(user, _safe_next(request.args.get("next")))
        else:
            return complete_sign_in(user, _safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if ConfirmForm().validate_on_submit():
        token = session.get(SESSION_KEY)
        if token:
            services.end_session(token)
            db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    """The header switcher: remembered in the session, and as the preference when signed in."""
    language = request.form.get("language", "")
    if ConfirmForm().validate_on_submit() and language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    profile_form = ProfileForm(obj=current_user, prefix="profile")
    if profile_form.validate_on_submit():
        current_user.name = (profile_form.name.data or "").strip()
        current_user.language = profile_form.language.data or None
        db.session.commit()
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", profile_form=profile_form,
                           password_form=PasswordForm(prefix="password"),
                           code_form=CodeForm(prefix="two-factor"))


@bp.route("/profile/password", methods=["POST"])
def change_password():
    password_form = PasswordForm(prefix="password")
    if password_form.validate_on_submit():
        try:
            services.change_password(current_user, password_form.current_password.data,
                                     password_form.new_password.data)
        except DomainError as error:
            apply_to_form(error, password_form)
        else:
            # Every session ended with the old password; this browser gets a new one.
            session[SESSION_KEY] = services.start_session(
                current_user, user_agent=request.user_agent.string, address=client_address()
            )
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", password_form=password_form,
                           profile_form=ProfileForm(obj=current_user, prefix="profile"),
                           code_form=CodeForm(prefix="two-factor"))


@bp.route("/settings/staff/")
@requires(Right.ADMINISTER)
def staff_list():
    users = db.session.scalars(db.select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("auth/staff_list.html", users=users)


@bp.route("/settings/staff/new", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def staff_new():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            user, password = services.create_staff_user(
                form.email.data, role=form.role.data, name=form.name.data or "",
                language=form.language.data or None, actor=current_user,
            )
        except DomainError as error:
            apply_to_form(error, form)
        else:
            db.session.commit()
            return render_template("auth/staff_created.html", user=user, password=password)
    return render_template("auth/staff_form.html", form=form, user=None)


@bp.route("/settings/staff/<int:user_id>", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def staff_edit(user_id: int):
    user = db.session.get(StaffUser, user_id) or abort(404)
    form = StaffEditForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.language.data = user.language or ""
    if form.validate_on_submit():
        try:
            services.update_staff_user(
                user, actor=current_user, name=form.name.data or "", role=form.role.data,
                active=form.active.data, language=form.language.data or None,
            )
        except DomainError as error:
            apply_to_form(error, form)
        else:
            db.session.commit()
            flash(_("The staff account %(email)s has been saved.", email=user.email), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/staff_form.html", form=form, user=user,
                           confirm_form=ConfirmForm())


@bp.route("/settings/staff/<int:user_id>/reset-password", methods=["POST"])
@requires(Right.ADMINISTER)
def staff_reset_password(user_id: int):
    user = db.session.get(StaffUser, user_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    password = services.generate_password()
    services.set_password(user, password, actor=current_user)
    db.session.commit()
    return render_template("auth/staff_created.html", user=user, password=password)
