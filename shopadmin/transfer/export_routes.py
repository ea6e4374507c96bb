"""Exports: start one (all customers or the list's current search), follow it, download it."""

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired

from ..extensions import db
from ..i18n import language_name
from ..settings.forms import EXPORT_FORMATS
from ..settings.services import get_setting
from .exports import EXPORTABLE, ExportJob, ExportStatus, export_folder, run_export, start_export
from .writers import MEDIA_TYPES

bp = Blueprint("exports", __name__, url_prefix="/exports")


class ExportForm(FlaskForm):
    format = SelectField(_l("Format"), validators=[InputRequired()])
    headings = SelectField(_l("Column headings"))
    columns = SelectMultipleField(_l("Columns (none chosen: all)"))
    query = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.format.choices = list(EXPORT_FORMATS.items())
        self.headings.choices = [("", _("Canonical English (for re-import anywhere)"))] + [
            (code, language_name(code)) for code in ("de", "fr", "en", "pl")]
        self.columns.choices = [(f.name, f.label) for f in EXPORTABLE]


@bp.route("/", methods=["GET", "POST"])
def index():
    form = ExportForm(data={"format": get_setting("export_format"),
                            "query": request.args.get("query", "")})
    if form.validate_on_submit():
        export = start_export(current_user, form.format.data, form.columns.data,
                              form.query.data or "", form.headings.data or None)
        db.session.commit()
        run_export(export.id)
        return redirect(url_for(".show", export_id=export.id))
    exports = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc()).limit(50)).all()
    return render_template("exports/index.html", form=form, exports=exports)


def _export(export_id: int) -> ExportJob:
    return db.session.get(ExportJob, export_id) or abort(404)


@bp.route("/<int:export_id>")
def show(export_id: int):
    export = _export(export_id)
    if request.args.get("format") == "json":
        percent = 100 if export.status != ExportStatus.PROCESSING else 0
        return jsonify(percent=percent, finished=export.status != ExportStatus.PROCESSING,
                       reload=True, text=_("%(done)s of %(total)s", done=export.rows_done,
                                           total=export.rows_total))
    return render_template("exports/show.html", export=export)


@bp.route("/<int:export_id>/download")
def download(export_id: int):
    export = _export(export_id)
    if export.status != ExportStatus.READY or not export.file_name:
        abort(404)
    path = export_folder() / export.file_name
    if not path.exists():
        abort(404)
    media = MEDIA_TYPES["csv" if export.format.startswith("csv") else export.format]
    return send_file(path, mimetype=media, as_attachment=True, download_name=export.file_name)
