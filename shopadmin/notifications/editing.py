"""Admins' work on the templates: save, restore the default, preview, send a test."""

from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _

from ..account import tokens
from ..audit import record_event
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..settings.services import get_settings
from ..text import email_key
from .catalog import LINK_TEMPLATES, TEMPLATES, TemplateText, validate_template
from .composing import named_address
from .delivery import MailContext
from .models import MailLog, MailStatus, NotificationTemplate
from .rendering import RenderedMail, format_expires, recipient_values, render_mail
from .transport import MailTrouble, OutgoingMail, Transport

EXAMPLE_TOKEN = "example-link-of-a-preview"


def _check_key(key: str, language: str) -> None:
    if key not in TEMPLATES or language not in current_app.config["LANGUAGES"]:
        raise LookupError((key, language))


def save_template(key: str, language: str, subject: str, body: str,
                  actor) -> NotificationTemplate:
    """Store the admin's version of a template, once it passes validate_template()."""
    _check_key(key, language)
    subject = subject.strip()
    body = body.replace("\r\n", "\n").strip()
    validate_template(key, subject, body)
    row = db.session.scalar(db.select(NotificationTemplate).filter_by(key=key, language=language))
    if row is None:
        row = NotificationTemplate(key=key, language=language)
        db.session.add(row)
    row.subject = subject
    row.body = body
    row.updated_by_id = actor.id if actor else None
    db.session.flush()
    record_event("template_saved", "notification_template", row.id, actor=actor,
                 changes={"key": key, "language": language})
    return row


def restore_default_template(key: str, language: str, actor) -> bool:
    """Drop the admin's version: the shipped text applies again. False if there was none."""
    _check_key(key, language)
    row = db.session.scalar(db.select(NotificationTemplate).filter_by(key=key, language=language))
    if row is None:
        return False
    record_event("template_restored", "notification_template", row.id, actor=actor,
                 changes={"key": key, "language": language})
    db.session.delete(row)
    db.session.flush()
    return True


def example_person(staff=None):
    """Who a preview is for when no customer is chosen (or the staff member, for a test)."""
    if staff is not None:
        first, _space, last = (staff.name or "").partition(" ")
        return SimpleNamespace(first_name=first, last_name=last, email=staff.email)
    return SimpleNamespace(first_name="Anna", last_name="Kowalska", email="anna@example.com")


def render_example(key: str, language: str, subject: str, body: str, person, *,
                   preview: bool = False) -> RenderedMail:
    """The template as `person` would get it, with an example link that opens nothing."""
    _check_key(key, language)
    validate_template(key, subject, body)
    settings = get_settings()
    values = recipient_values(person, settings)
    if key in LINK_TEMPLATES:
        purpose = LINK_TEMPLATES[key]
        values["reset_link"] = tokens.reset_link(EXAMPLE_TOKEN, settings["shop_url"])
        values["expires"] = format_expires(utcnow() + tokens.lifetime(purpose), language)
    template = TemplateText(key, language, subject.strip(), body.replace("\r\n", "\n").strip())
    headers = None
    if preview:
        sender = named_address(settings["shop_name"], settings["sender_address"])
        headers = {"sender": sender, "recipient": person.email}
    return render_mail(template, values, preview=headers)


def send_test_mail(key: str, language: str, subject: str, body: str, staff) -> MailLog:
    """Mail the (unsaved) template to the signed-in staff member now, and log it."""
    rendered = render_example(key, language, subject, body, example_person(staff))
    context = MailContext.load()
    log = MailLog(recipient=staff.email, template_key=key, language=language, is_test=True,
                  actor_id=staff.id, status=MailStatus.SENDING, attempts=1)
    db.session.add(log)
    db.session.flush()
    outgoing = OutgoingMail(context.sender, staff.email, rendered.subject, rendered.text,
                            rendered.html, log.id)
    try:
        with Transport() as transport:
            transport.send(outgoing)
    except MailTrouble as error:
        log.status = MailStatus.FAILED
        log.error = str(error)
        db.session.flush()
        raise DomainError(
            _("The test mail could not be sent: %(error)s", error=str(error))
        ) from error
    log.status = MailStatus.SENT
    log.sent_at = utcnow()
    db.session.flush()
    return log



def find_customer(text: str | None):
    """The live customer with this e-mail address or customer number, else a DomainError."""
    from ..customers.models import Customer

    text = (text or "").strip()
    if not text:
        return None
    customer = db.session.scalar(
        db.select(Customer).where(
            Customer.deleted_at.is_(None),
            (Customer.email_key == email_key(text)) | (Customer.customer_number == text),
        )
    )
    if customer is None:
        raise DomainError(_("No customer has this e-mail address or customer number."),
                          "customer")
    return customer
