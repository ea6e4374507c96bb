"""Store settings (admin)."""

from flask import Blueprint, render_template

from ..auth.sessions import admin_required

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/")
@admin_required
def index():
    return render_template("settings/index.html")
