"""The API's one error shape: {"errors": [{"field", "code", "problem"}]}, whatever went wrong.

`field` says where (a body field's path such as lines[0].quantity, a header, or "(body)"),
`code` says what for programs (schemas.ErrorCode), `problem` says it in English for the shop's
developers. Every answer under /api/ has this shape, unknown paths, wrong methods, bodies too
large, rate limits and unexpected failures included: never an HTML page.
"""

import time

from flask import Response, jsonify, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"

# pydantic's error types and the codes they are reported with.
_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_too_long": "too_long",
    "string_too_short": "required",
    "too_long": "too_long",
    "too_short": "too_short",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "decimal_max_digits": "invalid_amount",
    "decimal_max_places": "invalid_amount",
    "decimal_whole_digits": "invalid_amount",
    "decimal_parsing": "invalid_amount",
    "finite_number": "invalid_amount",
    "datetime_from_date_parsing": "wrong_type",
    "datetime_parsing": "wrong_type",
    "model_type": "not_object",
    "json_invalid": "invalid_json",
    "recursion_loop": "invalid_json",
    "model_attributes_type": "not_object",
}
_PROBLEMS = {
    "invalid_json": "is not valid JSON",
    "required": "is required",
    "unknown_field": "unknown field",
    "not_object": "must be a JSON object",
}
_TYPE_NAMES = {
    "string_type": "must be a string", "bool_type": "must be true or false",
    "int_type": "must be an integer", "list_type": "must be a list",
    "decimal_type": "must be an amount (a string or a number)",
    "dict_type": "must be a JSON object", "datetime_type": "must be an ISO 8601 date and time",
}

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited",
}


def problem(field: str, code: str, text: str) -> dict[str, str]:
    return {"field": field, "code": code, "problem": text}


def error_response(status: int, errors: list[dict[str, str]], headers=None) -> Response:
    response = jsonify({"errors": errors})
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def field_path(location: tuple) -> str:
    """('lines', 0, 'quantity') -> 'lines[0].quantity'; the body itself is '(body)'."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def _one(error: ErrorDetails) -> dict[str, str]:
    kind = error["type"]
    location = tuple(error["loc"])
    # A failing member of "X | None" reports the member's name last (e.g. 'str', 'function-after');
    # the path a client knows ends before it.
    location = tuple(part for part in location
                     if isinstance(part, int) or not _is_member_name(str(part)))
    if not location and kind.endswith("_type"):
        return problem("(body)", "not_object", _PROBLEMS["not_object"])
    if error.get("input", "") is None and (kind in _TYPE_NAMES or kind.endswith("_type")):
        return problem(field_path(location), "required", "is required")
    if kind in _TYPE_NAMES:
        return problem(field_path(location), "wrong_type", _TYPE_NAMES[kind])
    code = _CODES.get(kind, kind if kind in ("invalid_code", "invalid_email", "wrong_type")
                      else "invalid")
    if code == "required" and kind == "string_too_short":
        text = "must not be empty"
    else:
        text = _PROBLEMS.get(code) or error["msg"][0].lower() + error["msg"][1:]
    if code in ("too_long", "too_short") and kind.startswith("string"):
        text = f"must be at most {error['ctx']['max_length']} characters long"
    elif code in ("too_long", "too_short"):
        limit = error["ctx"].get("max_length") or error["ctx"].get("min_length")
        text = (f"must hold at most {limit} items" if code == "too_long"
                else f"must hold at least {limit} item(s)")
    if code == "invalid_amount":
        text = "must be an amount of at least 0 with at most 2 decimals"
    return problem(field_path(location), code, text)


def _is_member_name(part: str) -> bool:
    return (part in {"str", "bool", "int", "decimal", "datetime", "list", "float"}
            or part.startswith(("function-", "constrained-", "list[", "json-or-python"))
            or part[:1].isupper())  # a model's name


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """One problem per field, in the order pydantic found them."""
    problems, seen = [], set()
    for found in error.errors(include_url=False):
        one = _one(found)
        if one["field"] not in seen:
            seen.add(one["field"])
            problems.append(one)
    return problems


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_CODES.get(status, "server_error")
    allowed = sorted(getattr(error, "valid_methods", None) or [])
    texts = {
        404: f"there is no API at {request.path}",
        405: f"{request.method} is not allowed here; use {', '.join(allowed)}",
        413: "the request body is larger than the server accepts",
        429: "too many requests for this API key; wait and try again",
    }
    text = texts.get(status) or (error.description or error.name)
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(retry_after_seconds())
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    field = "(body)" if status == 413 else ""
    return error_response(status, [problem(field, code, text)], headers)


def retry_after_seconds() -> int:
    """Seconds until the exceeded limit's window ends (Flask-Limiter's current limit)."""
    from ..extensions import limiter

    current = getattr(limiter, "current_limit", None)
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)


def server_problem() -> Response:
    return error_response(500, [problem("", "server_error",
                                        "the server failed; nothing was stored, try again")])


def unavailable_problem() -> Response:
    return error_response(503, [problem("", "unavailable",
                                        "the database or the job queue is not answering; "
                                        "nothing was stored, try again later")],
                          {"Retry-After": "30"})


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")
