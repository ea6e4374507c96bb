"""Groups, the trash and privacy requests (see blueprint.py)."""

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..auth.forms import ConfirmForm
from ..auth.rights import Right, requires
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..formats import format_number, ngettext
from ..routing import requested_page
from ..settings.services import get_setting
from ..text import email_key
from .blueprint import bp
from .forget import commit_forgetting
from .groups import create_group, delete_group, member_counts, update_group
from .listing import list_customers
from .models import Customer, CustomerGroup
from .privacy import erase_customer, export_customer_data
from .trash import delete_customer, purge, purge_date, restore_customer

TRASH_PAGE = 100


class GroupForm(FlaskForm):
    name = StringField(_lp("thing", "Name"), validators=[InputRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])


class EraseForm(FlaskForm):
    email = StringField(_l("The customer's e-mail address"), validators=[InputRequired()])


def _customer(customer_id: int, *, deleted: bool = False) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or (customer.deleted_at is not None) != deleted:
        abort(404)
    return customer


@bp.route("/groups/", methods=["GET", "POST"])
def groups():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = create_group(form.name.data, form.description.data or "",
                                 actor=current_user)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            flash(_("Group “%(name)s” created.", name=group.name), "success")
            return redirect(url_for(".groups"))
    all_groups = db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)).all()
    return render_template("customers/groups.html", groups=all_groups, form=form,
                           counts=member_counts())


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int):
    group = db.session.get(CustomerGroup, group_id) or abort(404)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            update_group(group, form.name.data, form.description.data or "", actor=current_user)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            flash(_("Group saved."), "success")
            return redirect(url_for(".group", group_id=group.id))
    page = list_customers(MultiDict({"group": str(group.id)}),
                          requested_page())
    return render_template("customers/group.html", group=group, form=form, page=page,
                           delete_form=ConfirmForm(),
                           page_url=lambda n: url_for(".group", group_id=group.id, page=n))


@bp.post("/groups/<int:group_id>/delete")
def delete_group_view(group_id: int):
    group = db.session.get(CustomerGroup, group_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = group.name
    members = delete_group(group, actor=current_user)
    db.session.commit()
    flash(ngettext("Group “%(name)s” deleted; its %(num)s customer stays in the register.",
                   "Group “%(name)s” deleted; its %(num)s customers stay in the register.",
                   members, name=name, num=format_number(members)), "success")
    return redirect(url_for(".groups"))


@bp.route("/<int:customer_id>/delete", methods=["GET", "POST"])
@requires(Right.REMOVE_CUSTOMERS)
def delete(customer_id: int):
    customer = _customer(customer_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        delete_customer(customer, actor=current_user)
        db.session.commit()
        flash(ngettext("%(name)s is in the trash and can be restored for %(num)d day.",
                       "%(name)s is in the trash and can be restored for %(num)d days.",
                       int(get_setting("trash_days")), name=customer.full_name or customer.email),
              "success")
        return redirect(url_for(".index"))
    return render_template("customers/delete_confirm.html", customer=customer, form=form)


@bp.route("/trash/")
@requires(Right.REMOVE_CUSTOMERS)
def trash():
    customers = db.session.scalars(
        select(Customer).where(Customer.deleted_at.is_not(None))
        .order_by(Customer.deleted_at.desc()).limit(TRASH_PAGE)
    ).all()
    return render_template("customers/trash.html", customers=customers, form=ConfirmForm(),
                           purge_before=purge_date(), trash_days=get_setting("trash_days"))


@bp.post("/trash/<int:customer_id>/restore")
@requires(Right.REMOVE_CUSTOMERS)
def restore(customer_id: int):
    customer = _customer(customer_id, deleted=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    restore_customer(customer, actor=current_user)
    db.session.commit()
    flash(_("%(name)s is restored.", name=customer.full_name or customer.email), "success")
    return redirect(url_for(".edit", customer_id=customer.id))


@bp.post("/trash/empty")
@requires(Right.REMOVE_CUSTOMERS)
def empty_trash():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    removed = db.session.scalars(select(Customer.id).where(Customer.deleted_at.is_not(None)))
    count = purge(list(removed), actor=current_user)
    commit_forgetting()
    flash(ngettext("The trash is empty: %(num)s customer removed for good.",
                   "The trash is empty: %(num)s customers removed for good.", count,
                   num=format_number(count)), "success")
    return redirect(url_for(".trash"))


@bp.route("/<int:customer_id>/privacy/export")
@requires(Right.PRIVACY_REQUESTS)
def privacy_export(customer_id: int):
    customer = db.session.get(Customer, customer_id) or abort(404)
    data = export_customer_data(customer, actor=current_user)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="customer-{customer.id}.json"'})


@bp.route("/<int:customer_id>/privacy/erase", methods=["GET", "POST"])
@requires(Right.PRIVACY_REQUESTS)
def privacy_erase(customer_id: int):
    customer = db.session.get(Customer, customer_id)
    if customer is None and request.method == "POST" and ConfirmForm().validate_on_submit():
        # Sent twice, or by two admins at once: the customer is gone, which is what was asked.
        flash(_("Customer %(id)d was already erased.", id=customer_id), "info")
        return redirect(url_for(".index"))
    if customer is None:
        abort(404)
    form = EraseForm()
    if form.validate_on_submit():
        if email_key(form.email.data) != customer.email_key:
            form.email.errors = [_("Type the customer's e-mail address exactly to confirm.")]
        else:
            erased = erase_customer(customer, actor=current_user)
            commit_forgetting()
            flash(_("Customer %(id)d is erased for good.", id=erased), "success")
            return redirect(url_for(".index"))
    return render_template("customers/erase_confirm.html", customer=customer, form=form)
