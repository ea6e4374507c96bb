"""URL rules shared by every blueprint: converters, page numbers, ids, safe redirects."""

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest key a database integer column holds (SQLite's INTEGER, PostgreSQL's BIGINT).
MAX_DATABASE_ID = 2**63 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that matches only numbers a database key can hold.

    A longer number would raise OverflowError in the database driver (a 500); out of range,
    the rule simply does not match, and the answer is 404 like any unknown id.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DATABASE_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app) -> None:
    """Call before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = DatabaseIdConverter


# Far beyond any real list, and small enough that page * per_page stays a database integer.
MAX_PAGE = 10**9


def requested_page() -> int:
    """The `page` query argument as a page number from 1 to MAX_PAGE (1 when it is no number)."""
    from flask import request

    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def local_path(target: str | None) -> str | None:
    """`target` (a ?next= or a form's next) if it is a path on this site, else None: never
    another site's address, also not written as "//host" or "/\\host" (which browsers read as
    "//host")."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def database_id(text) -> int | None:
    """`text` as a key a database column can hold, else None (also for "²", which isdigit)."""
    text = str(text).strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_DATABASE_ID else None


def database_ids(texts) -> list[int]:
    """The distinct keys among `texts`, sorted; anything else is left out."""
    return sorted({n for n in map(database_id, texts) if n is not None})


def refuse_nul_characters():
    """A NUL character in the path, the query or a form field is refused with 400.

    No form or link of ours sends one, and PostgreSQL cannot store or compare text holding it:
    the driver would raise, and the visitor would get a 500.
    """
    from flask import abort, request

    values = [request.path, *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values.extend(request.form.values())
    if any("\x00" in value for value in values):
        abort(400)
