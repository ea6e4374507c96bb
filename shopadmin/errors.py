"""Domain errors on forms, and the translated error pages that keep the layout. DomainError
itself is in domain.py (no Flask there: the import's stages raise it), and imported from there."""

import logging

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, SecurityError

from .database import driver_reason
from .domain import DomainError
from .extensions import db
from .request_limits import is_upload_too_large

log = logging.getLogger(__name__)


def apply_to_form(error: DomainError, form) -> None:
    """Show a domain error at its field, or at the top of the form when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Access denied"), _l("Your account does not have the right to open this page.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (
        _l("File too large"),
        _l("The file is larger than the allowed upload size. Split it or ask an administrator."),
    ),
    "form_too_large": (
        _l("Form too large"),
        _l("The form holds more or longer entries than the back office accepts. Nothing was "
           "saved: go back, shorten the text or send fewer entries at once."),
    ),
    429: (
        _l("Too many attempts"),
        _l(
            "There were too many attempts in a short time. "
            "Please wait a few minutes and try again."
        ),
    ),
    503: (
        _l("The database is not answering"),
        _l("The back office cannot reach its database just now, or the database refused the "
           "work. Nothing was changed. Try again in a moment; if it lasts, tell whoever runs "
           "the back office."),
    ),
    "queue_down": (
        _l("The job queue is not answering"),
        _l("The back office cannot reach the store of its job queue and limits (Redis) just "
           "now. Nothing is lost: what was saved stays saved, and a job that could not be "
           "queued starts by itself when the queue answers again. Try again in a moment; if it "
           "lasts, tell whoever runs the back office."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was changed; please try again."),
    ),
}


def render_error(status: int, title=None, message=None):
    default_title, default_message = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title or default_title,
            message=message or default_message,
        ),
        status,
    )


def _record_in_security_log(status: int) -> None:
    from .auth import security_log

    if status == 403:
        security_log.record_refusal()
    elif request.endpoint in ("auth.login", "auth.login_code"):
        security_log.record_throttled()


def _api_errors():
    """orders/api_errors, loaded with the first error answered (it loads pydantic: 0.02 s of
    the start of every process, the import command's among them, that never answers one)."""
    from .orders import api_errors

    return api_errors


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("The form has expired"),
            _l(
                "The form was open too long or was sent from elsewhere. Nothing was saved: "
                "go back, reload the page and send it again."
            ),
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        # No page of ours can be built for a host we do not serve: answer plainly.
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if _api_errors().is_api_request():
            return _api_errors().http_problem(error)
        if error.code == 413 and not is_upload_too_large(request):
            return render_error(413, *ERROR_TEXTS["form_too_large"])
        if error.code in (403, 429):
            _record_in_security_log(error.code)
        return render_error(error.code)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        """The database down, unreachable, out of disk or locked too long: 503, said so (a
        500's "unexpected error" would send staff looking for a mistake of theirs)."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.remove()
        # The page is built without the database: signed out in its header (the staff member
        # could not be read, or was expired by the rollback), the shop's name from the defaults.
        g.database_down = True
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        return _unavailable("database", driver_reason(error), 503)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def queue_unavailable(error: RedisError):
        """Redis (REDIS_URL: the job queue, the limits) down or unreachable: 503, said so."""
        db.session.rollback()
        return _unavailable("redis", str(error), "queue_down")

    def _unavailable(what: str, reason: str, texts: int | str):
        log.error("%s unavailable on %s %s: %s", what, request.method, request.path, reason)
        if _api_errors().is_api_request():
            return _api_errors().unavailable_problem()
        page, _status = render_error(503, *ERROR_TEXTS[texts])
        return page, 503, {"Retry-After": "30"}

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        if _api_errors().is_api_request():
            return _api_errors().server_problem()
        return render_error(500)
