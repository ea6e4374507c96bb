"""Pages of the import: list, upload, the job's current step, progress, report, undo."""

import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import ConfirmForm
from ..customers.fields import BY_NAME, EDITABLE
from ..customers.numbers import series_number
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..formats import format_number, format_percentage
from ..routing import requested_page
from ..settings.services import get_settings
from . import services
from .discard import discard_record, discard_upload, may_discard
from .forms import OptionsForm, UploadForm, language_date_order, target_choices
from .models import ImportJob, ImportStatus, ImportTask
from .pipeline import rate_and_time_left
from .plan import ImportOptions
from .report import write_rejected
from .tasks import run_import_task

bp = Blueprint("imports", __name__, url_prefix="/imports")
bp.add_app_template_global(services.customer_warnings, "customer_import_warnings")


@bp.app_template_global()
def next_customer_number() -> str:
    settings = get_settings()
    return series_number(settings["customer_number_next"], settings)


def _job(import_id: int) -> ImportJob:
    return db.get_or_404(ImportJob, import_id)


@bp.route("/")
def index():
    page = db.paginate(db.select(ImportJob).order_by(ImportJob.id.desc()),
                       page=requested_page(), per_page=25, error_out=False)
    exports = "exports.index" in current_app.view_functions  # the exports list links from here
    return render_template("imports/index.html", page=page,
                           exports_url=url_for("exports.index") if exports else None)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = services.start_import(upload.stream, upload.filename, kind=form.kind.data,
                                        actor=current_user)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            return redirect(url_for(".show", import_id=job.id))
    return render_template("imports/new.html", form=form)


@bp.route("/<int:import_id>", methods=["GET", "POST"])
def show(import_id: int):
    job = _job(import_id)
    options = OptionsForm()
    if request.method == "POST" and options.validate_on_submit():
        mapping = [request.form.get(f"column-{i}") or None for i in range(len(job.mapping))]
        try:
            services.save_mapping(job, mapping)
            services.save_options(job, options.to_options())
            services.request_preview(job)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, options)
        else:
            db.session.commit()
            run_import_task(job.id)
            return redirect(url_for(".show", import_id=job.id))
    elif request.method == "GET":
        options.fill(ImportOptions.from_dict(job.options))
        if job.status == ImportStatus.UPLOADED and not options.date_order.data:
            options.date_order.data = language_date_order()  # until staff choose
    return render_template("imports/show.html", job=job, options=options, fields=BY_NAME,
                           **_step(job))


def preview_columns(new_customers: list[dict]) -> list[str]:
    """The fields the preview's new customers have values for, in the field table's order."""
    given = {name for new in new_customers for name in new["stored"]}
    return [f.name for f in EDITABLE if f.name in given and f.name != "groups"]


def _step(job: ImportJob) -> dict:
    if job.running:
        return {"step": "running"}
    if job.status == ImportStatus.DISCARDED:
        return {"step": "discarded", "record": discard_record(job)}
    written = job.status == ImportStatus.FAILED and (job.created or job.updated)
    if job.status in (ImportStatus.READY, ImportStatus.UNDONE) or written:
        return {"step": "report", "rejected": services.rejected_rows(job, 100),
                "warned": services.rejected_rows(job, 100, rejected=False),
                "mailed": services.password_links_sent(job)}
    checked = job.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED)
    return {"step": "review", "discardable": may_discard(job), "choices": target_choices(),
            "preview_columns": preview_columns,
            "samples": services.column_samples(job), "new_columns": services.new_columns(job),
            "secret_columns": services.secret_columns(job),
            "rejected": services.rejected_rows(job, 100) if checked else [],
            "warned": services.rejected_rows(job, 100, rejected=False) if checked else []}


def _start_task(import_id: int, request_task):
    """Ask for the job's next task (apply, undo) and hand it to the worker; back to the job."""
    job = _job(import_id)
    try:
        request_task(job)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        run_import_task(job.id)
    return redirect(url_for(".show", import_id=job.id))


@bp.post("/<int:import_id>/apply")
def apply(import_id: int):
    return _start_task(import_id, services.request_apply)


@bp.post("/<int:import_id>/discard")
def discard(import_id: int):
    job = _job(import_id)
    if ConfirmForm().validate_on_submit():
        try:
            discard_upload(job, current_user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The upload %(name)s was discarded and its file removed.",
                    name=job.original_name), "success")
            return redirect(url_for(".index"))
    return redirect(url_for(".show", import_id=job.id))


@bp.post("/<int:import_id>/undo")
def undo(import_id: int):
    return _start_task(import_id, services.request_undo)


@bp.route("/<int:import_id>/status")
def status(import_id: int):
    job = _job(import_id)
    rate, left = rate_and_time_left(job)
    text = _("%(done)s of %(total)s rows", done=format_number(job.rows_done),
             total=format_number(job.rows_total))
    if rate:
        text = _("%(done)s of %(total)s rows · %(rate)s rows/s · %(left)s s left",
                 done=format_number(job.rows_done), total=format_number(job.rows_total),
                 rate=format_number(round(rate)), left=format_number(round(left or 0)))
    finished = job.task is None
    percent = 100 if finished and job.rows_total else job.percent
    return jsonify(percent=percent, percent_text=format_percentage(percent), text=text,
                   finished=finished, reload=finished)


@bp.route("/<int:import_id>/rejected")
def rejected(import_id: int):
    return _problem_rows(import_id, rejected=True)


@bp.route("/<int:import_id>/warnings")
def warnings(import_id: int):
    return _problem_rows(import_id, rejected=False)


def _problem_rows(import_id: int, *, rejected: bool):
    """The rejected rows (or those imported with warnings) as a worksheet to download."""
    job = _job(import_id)
    if job.task == ImportTask.APPLY or not (job.rejected if rejected else job.warned):
        abort(404)
    with tempfile.TemporaryDirectory(prefix="rejected-") as folder:
        path, name, mimetype = write_rejected(db.session, job, Path(folder), rejected=rejected)
        # Opened before the folder goes; the response closes it, and then it is gone.
        handle = path.open("rb")
    return send_file(handle, as_attachment=True, download_name=name, mimetype=mimetype,
                     max_age=0)
