"""Admins: the notification templates (list, edit, preview, test, restore) and the outbox."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import ConfirmForm
from ..auth.rights import Right, requires
from ..domain import DomainError
from ..errors import apply_to_form
from ..extensions import db
from ..routing import requested_page
from ..settings.services import get_setting
from . import catalog, editing
from .blueprint import bp
from .forms import TemplateForm
from .models import NotificationTemplate, OutboxMessage

# The preview and the outbox show a mail as sent: its inline styles, never a script. It is framed
# by our own pages only, which read its height to show the whole mail (same origin, while the
# sandbox still runs no script in it).
MAIL_FRAME_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
                     "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox")


def _as_mail_frame(html: str):
    return html, 200, {"Content-Security-Policy": MAIL_FRAME_POLICY,
                       "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "no-store"}


def _check(key: str, language: str) -> None:
    if key not in catalog.TEMPLATES or language not in current_app.config["LANGUAGES"]:
        abort(404)


@bp.route("/settings/notifications/")
@requires(Right.ADMINISTER)
def templates():
    rows = db.session.scalars(db.select(NotificationTemplate)).all()
    changed = {(row.key, row.language): row for row in rows}
    return render_template("notifications/templates.html", templates=catalog.TEMPLATES,
                           languages=get_setting("languages"), changed=changed)


@bp.route("/settings/notifications/<key>/<language>", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def edit_template(key: str, language: str):
    _check(key, language)
    text = catalog.get_template(key, language)
    form = TemplateForm(data={"subject": text.subject, "body": text.body})
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "test":
                editing.send_test_mail(key, language, form.subject.data, form.body.data,
                                       current_user)
                flash(_("A test mail has been sent to %(email)s.", email=current_user.email),
                      "success")
            else:
                editing.save_template(key, language, form.subject.data, form.body.data,
                                      current_user)
                db.session.commit()
                flash(_("The template has been saved."), "success")
                return redirect(url_for(".edit_template", key=key, language=language))
        except DomainError as error:
            apply_to_form(error, form)
        db.session.commit()  # a test mail is logged, sent or not
    return render_template("notifications/template_edit.html", form=form, key=key,
                           language=language, text=text, confirm_form=ConfirmForm(),
                           placeholders=catalog.allowed_placeholders(key))


@bp.route("/settings/notifications/<key>/<language>/preview", methods=["GET", "POST"])
@requires(Right.ADMINISTER)
def preview_template(key: str, language: str):
    """The mail as a customer gets it, for the frame beside the editor: the saved template on
    GET, the text in the editor on POST (the Preview button targets the frame)."""
    _check(key, language)
    text = catalog.get_template(key, language)
    form = TemplateForm(data={"subject": text.subject, "body": text.body})
    if request.method == "POST" and not form.validate_on_submit():
        return render_template("notifications/preview_error.html", form=form), 200, {
            "Content-Security-Policy": MAIL_FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"}
    try:
        customer = editing.find_customer(form.customer.data)
        person = customer or editing.example_person()
        mail = editing.render_example(key, language, form.subject.data, form.body.data, person,
                                      preview=True)
    except DomainError as error:
        apply_to_form(error, form)
        return render_template("notifications/preview_error.html", form=form), 200, {
            "Content-Security-Policy": MAIL_FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"}
    return _as_mail_frame(mail.html)


@bp.route("/settings/notifications/<key>/<language>/restore", methods=["POST"])
@requires(Right.ADMINISTER)
def restore_template(key: str, language: str):
    _check(key, language)
    if ConfirmForm().validate_on_submit() and editing.restore_default_template(
            key, language, current_user):
        db.session.commit()
        flash(_("The default text has been restored."), "success")
    return redirect(url_for(".edit_template", key=key, language=language))


@bp.route("/settings/outbox")
@requires(Right.ADMINISTER)
def outbox():
    page = requested_page()
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    pagination = db.paginate(query, page=page, per_page=50, error_out=False)
    return render_template("notifications/outbox.html", pagination=pagination,
                           mail_server=current_app.config.get("MAIL_SERVER"),
                           confirm_form=ConfirmForm())


@bp.route("/settings/outbox/<int:message_id>")
@requires(Right.ADMINISTER)
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("notifications/outbox_message.html", message=message)


@bp.route("/settings/outbox/<int:message_id>/html")
@requires(Right.ADMINISTER)
def outbox_message_html(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return _as_mail_frame(message.html_body)


@bp.route("/settings/outbox/empty", methods=["POST"])
@requires(Right.ADMINISTER)
def empty_outbox():
    if ConfirmForm().validate_on_submit():
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()
        flash(_("The outbox is empty."), "success")
    return redirect(url_for(".outbox"))
