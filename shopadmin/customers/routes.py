"""One customer: create, view and edit, with the consent and audit history."""

from collections.abc import Sequence

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..audit import AuditEvent
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..registry import registry
from .blueprint import bp
from .consent import wording_for
from .fields import BY_NAME, SECTION_LABELS, Section, fields_in
from .forms import CustomerForm
from .models import ConsentEvent, Customer
from .services import EditConflict, create_customer, customer_values, update_customer

HISTORY_LIMIT = 100


def _render(form: CustomerForm, customer: Customer | None, status: int = 200):
    history: Sequence[AuditEvent] = []
    consents: Sequence[ConsentEvent] = []
    if customer is not None:
        history = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "customer", AuditEvent.object_id == customer.id)
            .order_by(AuditEvent.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        consents = db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer.id)
            .order_by(ConsentEvent.id.desc())
        ).all()
    sections = [(section, SECTION_LABELS[section], fields_in(section)) for section in Section
                if section is not Section.RECORD]
    # The consent statement as the customer reads it (a new customer: the store's default).
    consent_language, consent_text = wording_for(customer.language if customer else None)
    return render_template(
        "customers/edit.html",
        form=form,
        customer=customer,
        sections=sections,
        history=history,
        consents=consents,
        consent_language=consent_language,
        consent_text=consent_text,
        fields=BY_NAME,
        # What other parts add to the page (registry.add_customer_panel).
        actions=registry().customer_actions,
        panels=registry().customer_panels,
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            customer = create_customer(form.values(), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            flash(_("Customer %(name)s created.", name=customer.full_name), "success")
            return redirect(url_for(".edit", customer_id=customer.id))
    return _render(form, None, 422 if form.errors or form.form_errors else 200)


@bp.route("/<int:customer_id>", methods=["GET", "POST"])
def edit(customer_id: int):
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        abort(404)
    if request.method == "GET":
        values = customer_values(customer)
        values["groups"] = [group.id for group in customer.groups]
        values["customer_type"] = customer.customer_type.value
        values["gender"] = customer.gender.value if customer.gender else ""
        form = CustomerForm(data={**values, "version": customer.version})
        return _render(form, customer)
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            version = form.opened_version()
            changes = update_customer(
                customer, form.values(), actor=current_user, expected_version=version
            )
        except EditConflict as conflict:
            db.session.rollback()
            current = db.session.get(Customer, customer_id)
            if current is None:  # erased while this save was on its way
                abort(404)
            form.version.data = str(current.version)
            form.form_errors.append(conflict.message)
            if conflict.changed:
                labels = ", ".join(str(BY_NAME[n].label) for n in conflict.changed
                                   if n in BY_NAME)
                form.form_errors.append(_("Changed by the colleague: %(fields)s", fields=labels))
            return _render(form, current, 409)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(error, form)
        else:
            db.session.commit()
            if changes:
                flash(_("Changes saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for(".edit", customer_id=customer.id))
    return _render(form, customer, 422)
