"""Store settings (admin)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..audit import record_event
from ..auth.rights import Right, requires
from ..customers.numbers import series_number
from ..extensions import db
from ..registry import registry
from .forms import StoreSettingsForm
from .services import get_settings, update_settings

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def index():
    current = get_settings()
    form = StoreSettingsForm(data=current)
    if form.validate_on_submit():
        values = {name: form[name].data for name in form.data if name != "csrf_token"}
        changes = {k: [current[k], v] for k, v in values.items() if current[k] != v}
        if changes:
            update_settings(values)
            record_event("settings.updated", "settings", None, actor=current_user,
                         changes=changes)
            db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for(".index"))
    return render_template("settings/index.html", form=form, links=registry().settings_links,
                           series_example=series_number(current["customer_number_next"], current))
