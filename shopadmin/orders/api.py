"""The storefront intake API under /api/v1: JSON in and out, API-key auth, no session, no CSRF."""

import hashlib
import json
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ..auth.sessions import public
from ..database import utcnow
from ..extensions import csrf, db, limiter
from .intake import IntakeError, place_order, register_customer, set_newsletter
from .models import IdempotentRequest
from .services import find_api_key

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _api_key_id() -> str:
    return f"key:{getattr(g, 'api_key_id', None) or request.remote_addr}"


def _error(status: int, errors: list[dict[str, str]]):
    return jsonify({"errors": errors}), status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return _error(error.code or 500, [{"field": "", "problem": error.description or error.name}])


def api_view(view):
    """Authenticate by the X-API-Key header, read the JSON body, replay an idempotent retry."""

    @wraps(view)
    def wrapped():
        api_key = find_api_key(request.headers.get("X-API-Key", ""))
        if api_key is None:
            return _error(401, [{"field": "X-API-Key", "problem": "missing, unknown or revoked"}])
        g.api_key_id = api_key.id
        api_key.last_used_at = utcnow()
        data = request.get_json(silent=True)
        if data is None:
            return _error(400, [{"field": "(body)", "problem": "is not valid JSON"}])
        idem_key = request.headers.get("Idempotency-Key", "").strip()[:200]
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        if idem_key:
            earlier = db.session.scalar(select(IdempotentRequest).where(
                IdempotentRequest.api_key_id == api_key.id, IdempotentRequest.key == idem_key))
            if earlier is not None:
                if earlier.path != request.path or earlier.request_hash != digest:
                    db.session.rollback()
                    return _error(422, [{"field": "Idempotency-Key",
                                         "problem": "was used for a different request"}])
                db.session.commit()
                return jsonify(earlier.response), earlier.status_code
        try:
            body, status = view(data)
        except IntakeError as error:
            db.session.rollback()
            return _error(error.status, error.errors)
        if idem_key:
            db.session.add(IdempotentRequest(
                api_key_id=api_key.id, key=idem_key, path=request.path,
                request_hash=digest, status_code=status, response=body))
        try:
            db.session.commit()
        except IntegrityError:  # a concurrent retry with the same key won the race
            db.session.rollback()
            return _error(409, [{"field": "Idempotency-Key", "problem": "request in progress"}])
        return jsonify(body), status

    limit = limiter.limit(_rate_limit, key_func=_api_key_id)
    return public(limit(wrapped))


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120/minute")


@bp.post("/customers")
@api_view
def customers(data):
    customer = register_customer(data)
    return {"id": customer.id, "email": customer.email, "approved": customer.approved}, 201


@bp.post("/newsletter")
@api_view
def newsletter(data):
    customer, created = set_newsletter(data)
    body = {"email": data["email"], "subscribed": data["subscribed"],
            "customer_id": customer.id if customer else None}
    return body, 201 if created else 200


@bp.post("/orders")
@api_view
def orders(data):
    order = place_order(data)
    return {"number": order.number, "id": order.id, "customer_id": order.customer_id,
            "guest": order.customer_id is None, "total": str(order.total),
            "currency": order.currency}, 201
