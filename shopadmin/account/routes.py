"""The customer's public pages: set a password with a link from a mail, ask for a new link.

The link's token never stays in the address bar: /account/reset/<token> puts it into the
session and redirects to /account/reset, so neither the Referer nor a cache nor the browser
history keeps it. Every answer here is marked no-store. Nothing here signs anybody in.
"""

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale

from ..auth.sessions import public
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db, limiter
from ..i18n import select_locale
from ..passwords import MIN_LENGTH
from ..settings.services import default_settings, get_setting
from ..text import email_key
from . import services
from .forms import ForgotForm, ResetForm

bp = Blueprint("account", __name__, url_prefix="/account")
SESSION_TOKEN = "account_reset_token"
SESSION_LANGUAGE = "account_language"


@bp.after_request
def keep_out_of_caches(response):
    response.headers["Cache-Control"] = "no-store"
    # same-origin: no address of ours reaches another site, yet Flask-WTF's HTTPS Referer check
    # still sees our own pages (no-referrer would break it).
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.context_processor
def shop():
    if g.get("database_down"):  # (errors.database_unavailable: the defaults, no query)
        defaults = default_settings()
        return {"shop_name": defaults["shop_name"], "shop_url": defaults["shop_url"]}
    return {"shop_name": get_setting("shop_name"), "shop_url": get_setting("shop_url")}


@bp.errorhandler(429)
def too_many(error):
    with force_locale(_visitor_language()):
        return render_template("account/too_many.html"), 429


def _visitor_language() -> str:
    chosen = request.args.get("lang") or session.get(SESSION_LANGUAGE)
    languages: list[str] = current_app.config["LANGUAGES"]
    if chosen in languages:
        return chosen
    return select_locale()


def _email_key() -> str:
    return "forgot:" + email_key(request.form.get("email", ""))


def _link_not_usable():
    session.pop(SESSION_TOKEN, None)
    with force_locale(_visitor_language()):
        return render_template("account/link_invalid.html")


@bp.route("/reset/<token>")
@public
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_ADDRESS"])
def reset_link(token: str):
    session[SESSION_TOKEN] = token
    language = services.link_language(token)
    if language is not None:  # a new link opens in its mail's language
        session[SESSION_LANGUAGE] = language
    return redirect(url_for("account.reset"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["RESET_LIMIT_PER_ADDRESS"], methods=["POST"])
def reset():
    token = session.get(SESSION_TOKEN)
    language = services.link_language(token)
    if language is None:
        return _link_not_usable()
    # The mail's language, until the customer picks another with the switcher; later pages
    # of this visit, and the notice that the password was set, speak it too.
    chosen = request.args.get("lang") or session.get(SESSION_LANGUAGE)
    if chosen in current_app.config["LANGUAGES"]:
        language = chosen
    session[SESSION_LANGUAGE] = language
    with force_locale(language):
        form = ResetForm()
        if form.validate_on_submit():
            try:
                services.set_password_with_link(token, form.password.data, language=language)
            except services.LinkNotUsable:
                db.session.rollback()
                return _link_not_usable()
            except DomainError as error:
                apply_to_form(error, form)
            else:
                db.session.commit()
                session.pop(SESSION_TOKEN, None)
                return render_template("account/reset_done.html")
        return render_template("account/reset.html", form=form, min_length=MIN_LENGTH)


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["FORGOT_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["FORGOT_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_email_key)
def forgot():
    with force_locale(_visitor_language()):
        form = ForgotForm()
        if form.validate_on_submit():
            services.request_password_link(form.email.data)
            db.session.commit()
            return render_template("account/forgot_sent.html")
        return render_template("account/forgot.html", form=form)
