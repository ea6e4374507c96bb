"""What staff read for the codes a file carries: text encodings and export formats."""

from typing import TYPE_CHECKING

from ..translation import lazy_gettext as _l

if TYPE_CHECKING:
    from flask import Flask

# Python's codec names (as the reader detects them or a caller passes them) and what the
# spreadsheet programs call them.
ENCODING_NAMES = {
    "utf-8": _l("UTF-8"),
    "utf-8-sig": _l("UTF-8 (with byte order mark)"),
    "utf-16-le": _l("UTF-16 (little-endian)"),
    "utf-16-be": _l("UTF-16 (big-endian)"),
    "utf-16": _l("UTF-16"),
    "cp1252": _l("Windows-1252 (Western European)"),
    "cp1250": _l("Windows-1250 (Central European)"),
    "iso8859_2": _l("ISO-8859-2 (Central European)"),
    "iso8859_1": _l("ISO-8859-1 (Western European)"),
    "iso8859_15": _l("ISO-8859-15 (Western European, with €)"),
    "latin_1": _l("ISO-8859-1 (Western European)"),
    "mac_roman": _l("Mac OS Roman"),
    "cp850": _l("DOS code page 850 (Western European)"),
    "ascii": _l("ASCII"),
}


def encoding_name(code: str | None) -> str:
    """An encoding as staff know it ("cp1252" reads "Windows-1252 (Western European)"); an
    encoding we have no name for keeps its code."""
    if not code:
        return ""
    key = code.lower().replace("-", "_")
    for known, label in ENCODING_NAMES.items():
        if known.replace("-", "_") == key:
            return str(label)
    return code


def export_format_name(code: str | None) -> str:
    """An export format as the export form names it ("csv_semicolon" reads "CSV (semicolon,
    for Excel)")."""
    from ..settings.forms import EXPORT_FORMATS

    return str(EXPORT_FORMATS[code]) if code in EXPORT_FORMATS else (code or "")


def register(app: "Flask") -> None:
    app.jinja_env.filters["encoding_name"] = encoding_name
    app.jinja_env.filters["export_format_name"] = export_format_name
