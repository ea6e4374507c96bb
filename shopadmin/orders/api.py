"""The storefront intake API under /api/v1: JSON in and out, API-key auth, no session, no CSRF.

Bodies are validated by the pydantic models of schemas.py, which also make the OpenAPI
document served at /api/v1/openapi.json; every error has api_errors.py's one shape.
"""

import hashlib
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth.sessions import public
from ..database import utcnow
from ..extensions import client_address, csrf, db, limiter
from . import schemas
from .api_errors import error_response, problem, validation_problems
from .intake import IntakeError, place_order, register_customer, set_newsletter
from .models import IdempotentRequest
from .openapi import openapi_document
from .services import find_api_key

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _api_key():
    """The live key the request names (looked up once per request), else None."""
    if "api_key" not in g:
        g.api_key = find_api_key(request.headers.get("X-API-Key", ""))
    return g.api_key


def rate_limit_key() -> str:
    """Requests are counted per API key; those without a valid one per client address."""
    api_key = _api_key()
    return f"api-key:{api_key.id}" if api_key is not None else f"api-address:{client_address()}"


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120/minute")


def api_view(model: type[schemas.Body]):
    """Authenticate by the X-API-Key header, validate the JSON body against `model`, replay an
    idempotent retry; the view gets the validated model."""

    def decorate(view):
        @wraps(view)
        def wrapped():
            api_key = _api_key()
            if api_key is None:
                return error_response(401, [problem("X-API-Key", "unauthorized",
                                                    "missing, unknown or revoked")])
            api_key.last_used_at = utcnow()  # committed with the request's work
            if not request.is_json:
                return error_response(400, [problem(
                    "(body)", "invalid_json", "must be JSON (Content-Type: application/json)")])
            try:
                # pydantic's own JSON parser: bad JSON and absurd nesting are errors, not crashes
                payload = model.model_validate_json(request.get_data())
            except ValidationError as error:
                problems = validation_problems(error)
                bad_json = any(found["code"] == "invalid_json" for found in problems)
                return error_response(400 if bad_json else 422, problems)
            return _answer(api_key, payload, lambda: view(payload))

        limit = limiter.limit(_rate_limit, key_func=rate_limit_key)
        return public(limit(wrapped))

    return decorate


def _answer(api_key, payload: schemas.Body, run):
    idem_key = request.headers.get("Idempotency-Key", "").strip()[:200]
    # The validated body, so that the same request in other whitespace or order is the same.
    digest = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    if idem_key:
        earlier = db.session.scalar(select(IdempotentRequest).where(
            IdempotentRequest.api_key_id == api_key.id, IdempotentRequest.key == idem_key))
        if earlier is not None:
            if earlier.path != request.path or earlier.request_hash != digest:
                db.session.rollback()
                return error_response(422, [problem("Idempotency-Key", "idempotency_mismatch",
                                                    "was used for a different request")])
            db.session.commit()
            return jsonify(earlier.response), earlier.status_code
    try:
        body, status = run()
    except IntakeError as error:
        db.session.rollback()
        return error_response(error.status, error.errors)
    if idem_key:
        db.session.add(IdempotentRequest(
            api_key_id=api_key.id, key=idem_key, path=request.path,
            request_hash=digest, status_code=status, response=body))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request (the same order, or a retry) won the race
        db.session.rollback()
        return error_response(409, [problem("", "conflict",
                                            "a request for the same record was stored first; "
                                            "send it again to see its answer")])
    return jsonify(body), status


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


@bp.post("/customers")
@api_view(schemas.CustomerIn)
def customers(data: schemas.CustomerIn):
    customer = register_customer(data)
    return schemas.CustomerCreated(
        id=customer.id, email=customer.email, approved=customer.approved).model_dump(), 201


@bp.post("/newsletter")
@api_view(schemas.NewsletterIn)
def newsletter(data: schemas.NewsletterIn):
    customer, created = set_newsletter(data)
    body = schemas.NewsletterChanged(email=data.email, subscribed=data.subscribed,
                                     customer_id=customer.id if customer else None)
    return body.model_dump(), 201 if created else 200


@bp.post("/orders")
@api_view(schemas.OrderIn)
def orders(data: schemas.OrderIn):
    order = place_order(data)
    return schemas.OrderCreated(
        number=order.number, id=order.id, customer_id=order.customer_id,
        guest=order.customer_id is None, total=str(order.total),
        currency=order.currency).model_dump(), 201
