"""All staff: send the password mail to one customer or many, the mail log, batches."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import ConfirmForm
from ..customers.models import Customer
from ..domain import DomainError
from ..extensions import db
from ..formats import format_number, format_percentage, ngettext
from ..imports.models import ImportJob
from ..imports.services import created_customers
from ..routing import database_id, database_ids, local_path, requested_page
from . import campaigns, catalog, services
from .blueprint import bp
from .models import BatchStatus, MailBatch, MailLog, MailStatus


def _customer_page(customer_id: int) -> str:
    return f"/customers/{customer_id}"  # the stable address of the customer page (DESIGN.md)


def _back(default: str) -> str:
    """The page a form came from (?next=, a path on this site), else the default."""
    return local_path(request.form.get("next")) or default


@bp.route("/customers/<int:customer_id>/send-password", methods=["POST"])
def send_password(customer_id: int):
    """The Send password link button of the customer page (confirmed in the browser first)."""
    customer = db.session.get(Customer, customer_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        log = services.send_password_mail(customer, current_user)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(_customer_page(customer_id))
    db.session.commit()  # the worker sends it: no request waits on the mail server
    flash(_("The password link to %(email)s is on its way; the customer's mails below show "
            "when it has gone out, or why not.", email=log.recipient), "success")
    return redirect(_customer_page(customer_id))


@bp.route("/customers/send-password", methods=["POST"])
def send_passwords():
    """The password mail to many customers (ids posted as customer_ids): a page to confirm,
    then a batch whose page follows it."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    origin = request.form.get("origin") if request.form.get("origin") in (
        "selection", "filter", "import") else "selection"
    origin_id = database_id(request.form.get("origin_id", ""))
    if origin == "import":  # everyone the import created: described, not listed
        job = db.session.get(ImportJob, origin_id or 0) or abort(404)
        ids, chosen = [], created_customers(job)
    else:
        ids = chosen = database_ids(request.form.getlist("customer_ids"))
    if request.form.get("confirmed") != "1":
        breakdown = services.language_breakdown(chosen)
        return render_template("notifications/send_confirm.html",
                               ids=ids,
                               count=breakdown["total"], breakdown=breakdown,
                               origin=origin, origin_id=origin_id, form=form)
    submission = request.form.get("submission", "")[:64]
    try:
        if origin == "import":
            batch = services.send_password_mails_described(
                current_user, import_id=job.id, submission=submission,
                estimate=db.session.scalar(db.select(db.func.count()).select_from(
                    chosen.subquery())))
        else:
            batch = services.send_password_mails(ids, current_user, origin=origin,
                                                 origin_id=origin_id, submission=submission)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for(".batches"))
    db.session.commit()
    flash(ngettext("The password link is being sent to %(num)s customer.",
                   "The password link is being sent to %(num)s customers.", batch.total,
                   num=format_number(batch.total)), "success")
    return redirect(url_for(".batch", batch_id=batch.id))


@bp.route("/mails/")
def mail_log():
    status = request.args.get("status") or None
    pagination = campaigns.mail_log_page(status=status, page=requested_page())
    return render_template("notifications/mail_log.html", pagination=pagination, status=status,
                           confirm_form=ConfirmForm())


@bp.route("/mails/<int:log_id>/retry", methods=["POST"])
def retry_mail(log_id: int):
    log = db.session.get(MailLog, log_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.retry_mail(log, current_user)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The mail to %(email)s is queued again.", email=log.recipient), "success")
    return redirect(_back(url_for(".mail_log")))


@bp.route("/mails/batches/")
def batches():
    return render_template("notifications/batches.html", batches=campaigns.recent_batches())


@bp.route("/mails/batches/<int:batch_id>")
def batch(batch_id: int):
    mailing = db.session.get(MailBatch, batch_id) or abort(404)
    status = request.args.get("status") or None
    pagination = campaigns.batch_recipients(mailing, status=status, page=requested_page())
    return render_template("notifications/batch.html", batch=mailing,
                           counts=campaigns.batch_counts(mailing), pagination=pagination,
                           status=status, confirm_form=ConfirmForm())


@bp.route("/mails/batches/<int:batch_id>/status")
def batch_status(batch_id: int):
    """For the progress bar: how far the batch is."""
    mailing = db.session.get(MailBatch, batch_id) or abort(404)
    counts = campaigns.batch_counts(mailing)
    done = counts["sent"] + counts["failed"]
    percent = int(100 * done / counts["total"]) if counts["total"] else 100
    return jsonify(
        percent=percent,
        percent_text=format_percentage(percent),
        text=_("%(sent)s sent, %(failed)s failed, %(left)s left",
               sent=format_number(counts["sent"]), failed=format_number(counts["failed"]),
               left=format_number(counts["left"])),
        finished=mailing.status == BatchStatus.DONE and not counts["left"],
        reload=True,
    )


@bp.route("/mails/batches/<int:batch_id>/start-again", methods=["POST"])
def batch_again(batch_id: int):
    from .batches import start_again

    mailing = db.session.get(MailBatch, batch_id) or abort(404)
    if ConfirmForm().validate_on_submit() and mailing.status == BatchStatus.WAITING:
        start_again(mailing)
    return redirect(url_for(".batch", batch_id=batch_id))


@bp.route("/mails/batches/<int:batch_id>/retry-failed", methods=["POST"])
def retry_batch(batch_id: int):
    mailing = db.session.get(MailBatch, batch_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        count = services.retry_failed_mails(mailing, current_user)
        db.session.commit()
        flash(ngettext("%(num)s failed mail is queued again.",
                       "%(num)s failed mails are queued again.", count,
                       num=format_number(count)), "success")
    return redirect(url_for(".batch", batch_id=batch_id))


@bp.route("/mails/batches/<int:batch_id>/resend", methods=["POST"])
def resend_batch(batch_id: int):
    mailing = db.session.get(MailBatch, batch_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".batch", batch_id=batch_id))
    try:
        fresh = services.resend_to_customers_without_password(mailing, current_user)
    except DomainError as error:
        flash(error.message, "info")
        return redirect(url_for(".batch", batch_id=batch_id))
    db.session.commit()
    flash(ngettext("A fresh link is being sent to %(num)s customer.",
                   "A fresh link is being sent to %(num)s customers.", fresh.total,
                   num=format_number(fresh.total)), "success")
    return redirect(url_for(".batch", batch_id=fresh.id))


@bp.app_template_global("customer_mails")
def customer_mails_global(customer_id: int, limit: int = 20):
    """For the partial on the customer page: the customer's latest mails."""
    return campaigns.customer_mails(customer_id, limit)


@bp.app_template_global("mail_template_name")
def mail_template_name(key: str) -> str:
    return catalog.template_name(key) if key in catalog.TEMPLATES else key


@bp.app_template_global("mail_status_badge")
def mail_status_badge(status) -> tuple[str, str]:
    """(label, Bootstrap colour) of a mail status."""
    status = MailStatus(status)
    return str(campaigns.STATUS_LABELS[status]), campaigns.STATUS_COLOURS[status]


@bp.app_template_global("mail_error_text")
def mail_error_text(kind: str) -> str:
    return str(campaigns.ERROR_TEXTS.get(kind, ""))


@bp.app_template_global("mail_link_label")
def mail_link_label(state: str) -> str:
    return str(campaigns.LINK_LABELS.get(state, ""))


@bp.app_template_global("mail_batch_origin")
def mail_batch_origin(batch: MailBatch) -> str:
    return campaigns.origin_text(batch)
