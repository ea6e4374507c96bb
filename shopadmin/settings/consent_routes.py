"""The marketing-consent statement per language (admin): what the newsletter switch means, shown
on the customer page in the customer's language and kept with every change of consent."""

from flask import Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..audit import record_event
from ..auth.rights import Right, requires
from ..customers.consent import shipped_wording
from ..extensions import db
from ..i18n import language_name
from ..registry import registry
from .routes import bp
from .services import get_setting, update_settings


def init_app(app: Flask) -> None:
    registry(app).add_settings_link("settings.consent", _l("Marketing consent statement"))


def consent_form(languages: list[str], stored: dict[str, str]) -> FlaskForm:
    """A text per language; empty means the shipped statement in that language."""

    class ConsentForm(FlaskForm):
        pass

    for code in languages:
        setattr(ConsentForm, code, TextAreaField(
            language_name(code), default=stored.get(code, ""),
            validators=[Length(max=2000)],
            render_kw={"rows": 3, "placeholder": shipped_wording(code), "lang": code}))
    return ConsentForm()


@bp.route("/consent", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def consent():
    languages = list(current_app.config["LANGUAGES"])
    stored = dict(get_setting("newsletter_consent_texts") or {})
    form = consent_form(languages, stored)
    if form.validate_on_submit():
        texts = dict(stored)  # a language the store no longer offers keeps its text
        for code in languages:
            text = (form[code].data or "").strip()
            if text:
                texts[code] = text
            else:
                texts.pop(code, None)
        if texts != stored:
            update_settings({"newsletter_consent_texts": texts})
            record_event("settings.updated", "settings", None, actor=current_user,
                         changes={"newsletter_consent_texts": [stored, texts]})
            db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for(".consent"))
    status = 422 if form.errors else 200
    return render_template("settings/consent.html", form=form, languages=languages), status
