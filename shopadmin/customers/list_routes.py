"""The customer list: search, filters, sorting, columns, saved views and bulk actions."""

from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..auth.forms import ConfirmForm
from ..auth.rights import Right, may
from ..date_field import unreadable_day_message
from ..domain import DomainError
from ..extensions import db
from ..formats import day_or_none, format_number, format_percentage, ngettext
from ..pickers import groups_by_section
from ..routing import database_id, database_ids, requested_page
from ..settings.services import get_setting
from .blueprint import bp
from .bulk import (
    ACTIONS,
    ENDED,
    BulkJob,
    allowed,
    perform,
    perform_on_matching,
    run_bulk_job,
    start_again,
)
from .choices import TYPE_LABELS
from .fields import BY_NAME, FIELDS
from .listing import FILTER_KEYS, count_customers, customer_query, list_customers
from .models import CustomerGroup, SavedView

DEFAULT_COLUMNS = ("customer_number", "name", "email", "billing_city", "billing_country",
                   "approved", "newsletter", "created_at")
COLUMN_CHOICES = ("name", *(f.name for f in FIELDS if f.listable and f.name not in
                            ("first_name", "last_name", "last_name_prefix", "id")))


def _filters(args: MultiDict) -> MultiDict:
    return MultiDict([(k, v) for k in FILTER_KEYS for v in args.getlist(k) if v])


def _unreadable_days(args: MultiDict) -> dict[str, str]:
    """The date filters that could not be read as a day (they filter nothing), with why."""
    return {name: unreadable_day_message(args[name]) for name in ("created_from", "created_to")
            if args.get(name) and day_or_none(args[name]) is None}


def _args_from(query: str) -> MultiDict:
    """The list's filters from a query string carried in a form."""
    return _filters(MultiDict(parse_qsl(query)))


def _column_setting() -> SavedView | None:
    return db.session.scalar(select(SavedView).where(
        SavedView.staff_user_id == current_user.id, SavedView.name == ""))


def _columns() -> list[str]:
    setting = _column_setting()
    chosen = setting.columns if setting and setting.columns else DEFAULT_COLUMNS
    return [c for c in chosen if c in COLUMN_CHOICES]


def _column_label(name: str):
    return pgettext("person", "Name") if name == "name" else BY_NAME[name].distinct_label


def _column_groups() -> list[tuple[object | None, list[tuple[str, object]]]]:
    """The column picker's choices under their sections' headings, each label said once."""
    fields = [BY_NAME.get(name, SimpleNamespace(name=name)) for name in COLUMN_CHOICES]
    return [(heading, [(name, _column_label(name)) for name in names])
            for heading, names in groups_by_section(fields)]


@bp.route("/")
def index():
    args = _filters(request.args)
    page = list_customers(args, requested_page())
    groups = db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)).all()
    views = db.session.scalars(select(SavedView).where(
        SavedView.staff_user_id == current_user.id, SavedView.name != "")
        .order_by(SavedView.name)).all()
    return render_template(
        "customers/index.html",
        page=page,
        args=args,
        query_string=urlencode(list(args.items(multi=True))),
        groups=groups,
        views=views,
        columns=_columns(),
        column_groups=_column_groups(),
        column_label=_column_label,
        date_errors=_unreadable_days(args),
        store_languages=get_setting("languages"),
        import_id=database_id(args.get("import", "")),
        types=list(TYPE_LABELS.items()),
        actions=[a for a in ACTIONS.values() if allowed(current_user, a)],
        page_url=lambda number: url_for(".index", page=number, **args.to_dict(flat=False)),
    )


@bp.post("/columns")
def save_columns():
    chosen = [c for c in request.form.getlist("columns") if c in COLUMN_CHOICES]
    setting = _column_setting() or SavedView(staff_user_id=current_user.id, name="")
    setting.columns = chosen or list(DEFAULT_COLUMNS)
    db.session.add(setting)
    db.session.commit()
    flash(_("Your choice of columns is saved."), "success")
    return redirect(url_for(".index") + "?" + request.form.get("query", ""))


@bp.post("/views")
def save_view():
    name = (request.form.get("name") or "").strip()[:120]
    if not name:
        flash(_("Give the view a name."), "danger")
        return redirect(url_for(".index") + "?" + request.form.get("query", ""))
    query = urlencode(list(_args_from(request.form.get("query", "")).items(multi=True)))
    view = db.session.scalar(select(SavedView).where(
        SavedView.staff_user_id == current_user.id, SavedView.name == name))
    view = view or SavedView(staff_user_id=current_user.id, name=name)
    view.query = query
    db.session.add(view)
    db.session.commit()
    flash(_("View “%(name)s” saved.", name=name), "success")
    return redirect(url_for(".index") + "?" + query)


@bp.post("/views/<int:view_id>/delete")
def delete_view(view_id: int):
    view = db.session.get(SavedView, view_id)
    if view is None or view.staff_user_id != current_user.id:
        abort(404)
    db.session.delete(view)
    db.session.commit()
    flash(_("View “%(name)s” deleted.", name=view.name), "success")
    return redirect(url_for(".index"))


@bp.post("/bulk")
def bulk():
    action = ACTIONS.get(request.form.get("action", ""))
    back = url_for(".index") + "?" + request.form.get("query", "")
    if action is None:
        flash(_("Choose an action."), "danger")
        return redirect(back)
    if not allowed(current_user, action):
        abort(403)
    params = {}
    if action.needs_group:
        group = db.session.get(CustomerGroup, database_id(request.form.get("group", "")) or 0)
        if group is None:
            flash(_("Choose a group."), "danger")
            return redirect(back)
        params = {"group": group.id, "group_name": group.name}
    # Everything the search matches is described by the search, never listed here.
    matching = request.form.get("scope") == "all"
    query = request.form.get("query", "")
    ids = [] if matching else database_ids(request.form.getlist("ids"))
    count = count_customers(_args_from(query)) if matching else len(ids)
    if not count:
        flash(_("No customers are selected."), "warning")
        return redirect(back)
    chosen = customer_query(_args_from(query)) if matching else ids
    if request.form.get("confirmed") != "yes":
        return render_template("customers/bulk_confirm.html", action=action, count=count,
                               form=request.form, params=params,
                               breakdown=action.details(chosen) if action.details else None)
    if action.start is not None:
        params.update(scope="all" if matching else "selected", count=count,
                      submission=request.form.get("submission", "")[:64])
        try:
            target = action.start(query if matching else ids, current_user, params)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(back)
        db.session.commit()
        return redirect(target)
    if matching:
        result = perform_on_matching(action.key, query, count, current_user, params)
    else:
        result = perform(action.key, ids, current_user, params)
    if isinstance(result, BulkJob):
        db.session.commit()
        run_bulk_job(result.id)
        return redirect(url_for(".bulk_job", job_id=result.id))
    db.session.commit()
    flash(ngettext(
        "%(action)s: %(num)s customer changed, of %(count)s selected.",
        "%(action)s: %(num)s customers changed, of %(count)s selected.",
        result, action=action.label, num=format_number(result), count=format_number(count)),
        "success")
    return redirect(back)


def _bulk_job(job_id: int) -> BulkJob:
    """A bulk job its starter or a colleague with the right asks for; anyone else gets 404."""
    bulk = db.session.get(BulkJob, job_id)
    if bulk is None or (bulk.actor_id != current_user.id
                        and not may(current_user, Right.SEE_COLLEAGUES_JOBS)):
        abort(404)
    return bulk


@bp.post("/bulk/<int:job_id>/start-again")
def bulk_job_again(job_id: int):
    bulk = _bulk_job(job_id)
    if ConfirmForm().validate_on_submit() and bulk.status == "failed":
        start_again(bulk)
    return redirect(url_for(".bulk_job", job_id=job_id))


@bp.route("/bulk/<int:job_id>")
def bulk_job(job_id: int):
    bulk = _bulk_job(job_id)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format"):
        percent = int(100 * bulk.done / bulk.total) if bulk.total else 100
        return jsonify(
            percent=percent,
            percent_text=format_percentage(percent),
            finished=bulk.status in ENDED,
            reload=True,
            text=_("%(done)s of %(total)s", done=format_number(bulk.done),
                   total=format_number(bulk.total)),
        )
    return render_template("customers/bulk_job.html", bulk=bulk, action=ACTIONS[bulk.action])
