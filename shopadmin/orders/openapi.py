"""The OpenAPI 3.1 document of the storefront API, generated from the pydantic models.

Only the paths, their status codes and the words around them are written here; every schema
comes from schemas.py, the models that validate the requests.
"""

from functools import lru_cache

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from . import schemas

REF = "#/components/schemas/{model}"

# path: (summary, request model, {status: (description, answer model)})
ERRORS = {
    "400": "The body is not JSON",
    "401": "Missing, unknown or revoked API key",
    "413": "The body is larger than the server accepts",
    "422": "Validation failed: each problem names its field",
    "429": "Too many requests for this key (see Retry-After)",
    "503": "The database is not answering; nothing was stored (see Retry-After)",
}
OPERATIONS = {
    "/customers": ("A visitor created an account", schemas.CustomerIn, {
        "201": ("Created", schemas.CustomerCreated),
        "409": ("The e-mail is registered, or belongs to a customer erased at their request",
                schemas.ErrorBody),
    }),
    "/newsletter": ("Subscribe or unsubscribe by e-mail", schemas.NewsletterIn, {
        "200": ("Changed (or nothing to change)", schemas.NewsletterChanged),
        "201": ("A new register entry, subscribed", schemas.NewsletterChanged),
        "409": ("The e-mail belongs to a customer erased at their request", schemas.ErrorBody),
    }),
    "/orders": ("An order was placed", schemas.OrderIn, {
        "201": ("Created", schemas.OrderCreated),
        "409": ("An order with this number exists", schemas.ErrorBody),
    }),
}
MODELS: list[type[BaseModel]] = [
    schemas.CustomerIn, schemas.NewsletterIn, schemas.OrderIn, schemas.CustomerCreated,
    schemas.NewsletterChanged, schemas.OrderCreated, schemas.ErrorBody]


def _json(model, definitions: dict) -> dict:
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    """The whole document (built once: it depends on the code only)."""
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "validation" if model.__name__.endswith("In") else "serialization")
            for model in MODELS]
    _, top = models_json_schema(keys, ref_template=REF)
    definitions = top.get("$defs", {})
    paths = {}
    for path, (summary, request_model, answers) in OPERATIONS.items():
        responses = {status: {"description": text, "content": _json(model, definitions)}
                     for status, (text, model) in answers.items()}
        for status, text in ERRORS.items():
            responses[status] = {"description": text,
                                 "content": _json(schemas.ErrorBody, definitions)}
        responses["429"]["headers"] = {"Retry-After": {
            "description": "seconds until the key may send again",
            "schema": {"type": "integer"}}}
        responses["503"]["headers"] = {"Retry-After": {
            "description": "seconds after which to try again",
            "schema": {"type": "integer"}}}
        paths["/api/v1" + path] = {"post": {
            "summary": summary,
            "operationId": path.strip("/"),
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "a retry with the same key replays the first answer"}],
            "requestBody": {"required": True, "content": _json(request_model, definitions)},
            "responses": dict(sorted(responses.items())),
        }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "shopadmin storefront intake API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header",
                                           "name": "X-API-Key"}},
        },
    }
