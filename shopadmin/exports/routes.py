"""Exports: start one (all customers or orders, or the list's current search), follow it,
download it."""

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are older
from wtforms.validators import InputRequired, ValidationError

from ..auth.rights import Right, may
from ..extensions import db
from ..formats import format_number, format_percentage
from ..i18n import language_name
from ..pickers import CheckboxesField, groups_by_section
from ..settings.forms import EXPORT_FORMATS
from ..settings.services import get_setting
from ..sheets.writers import MEDIA_TYPES
from .kinds import EXPORT_KINDS
from .models import ExportJob, ExportStatus
from .services import export_folder, run_export, start_export

bp = Blueprint("exports", __name__, url_prefix="/exports")


STATUS_LABELS = {"processing": _lp("export status", "Processing"),
                 "ready": _lp("export status", "Ready"),
                 "failed": _lp("export status", "Failed")}


class ExportForm(FlaskForm):
    kind = HiddenField(default="customers")
    format = SelectField(_l("Format"), validators=[InputRequired()])
    headings = SelectField(_l("Column headings"))
    columns = CheckboxesField(_l("Columns (none chosen: all)"))
    query = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.format.choices = list(EXPORT_FORMATS.items())
        self.headings.choices = [("", _("Canonical English (for re-import anywhere)"))] + [
            (code, language_name(code)) for code in ("de", "fr", "en", "pl")]
        # (a forged kind is refused by validate_kind; the page shows the customers' columns)
        self.export_kind = kind = EXPORT_KINDS.get(self.kind.data) or EXPORT_KINDS["customers"]
        self.columns.choices = [SelectChoice(c.name, getattr(c, "distinct_label", c.label))
                                for c in kind.columns]
        self.column_groups = groups_by_section(kind.columns)

    def validate_kind(self, field):
        if field.data not in EXPORT_KINDS:
            raise ValidationError(_("Choose what to export."))


@bp.route("/", methods=["GET", "POST"])
def index():
    kind = request.args.get("kind", "customers")
    form = ExportForm(data={"format": get_setting("export_format"),
                            "kind": kind if kind in EXPORT_KINDS else "customers",
                            "query": request.args.get("query", "")})
    if form.validate_on_submit():
        export = start_export(current_user, form.format.data, form.columns.data,
                              form.query.data or "", form.headings.data or None,
                              kind=form.kind.data)
        db.session.commit()
        run_export(export.id)
        return redirect(url_for(".show", export_id=export.id))
    listed = select(ExportJob).order_by(ExportJob.id.desc()).limit(50)
    if not may(current_user, Right.SEE_COLLEAGUES_JOBS):
        listed = listed.where(ExportJob.actor_id == current_user.id)
    exports = db.session.scalars(listed).all()
    return render_template("exports/index.html", form=form, exports=exports,
                           export_status_labels=STATUS_LABELS,
                           kind=form.export_kind)


def _export(export_id: int) -> ExportJob:
    """An export its maker or an admin asks for; anyone else gets 403 (it holds personal data)."""
    export = db.session.get(ExportJob, export_id) or abort(404)
    if not may_see(export):
        abort(403)
    return export


def may_see(export: ExportJob) -> bool:
    return may(current_user, Right.SEE_COLLEAGUES_JOBS) or export.actor_id == current_user.id


@bp.route("/<int:export_id>")
def show(export_id: int):
    export = _export(export_id)
    if request.args.get("format") == "json":
        return jsonify(percent=export.percent, percent_text=format_percentage(export.percent),
                       finished=export.status != ExportStatus.PROCESSING, reload=True,
                       text=_("%(done)s of %(total)s", done=format_number(export.rows_done),
                              total=format_number(export.rows_total)))
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
