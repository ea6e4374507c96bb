"""Spreadsheet cells: neutralise formulas on export, and undo that exactly on import.

A text cell that starts with = + - @ a tab or a carriage return would run as a formula when a
spreadsheet opens the file (CSV injection), so an export prefixes it with an apostrophe. An
apostrophe is prefixed to a text that itself starts with one, too, so that the rule can be undone
without guessing: on import, one leading apostrophe is removed when the next character is one of
those (or a digit, since Shopify writes phone numbers as '+49... and '0301...).
"""

FORMULA_STARTS = frozenset("=+-@\t\r")
EXPORT_PREFIXED = FORMULA_STARTS | {"'"}
_IMPORT_STRIPPED = EXPORT_PREFIXED | frozenset("0123456789")


def neutralise(text: str) -> str:
    """The text as it is written to a CSV or XLSX cell."""
    if text and text[0] in EXPORT_PREFIXED:
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """The text as it was before `neutralise`, and Shopify's quoted numbers without the quote."""
    if len(text) > 1 and text[0] == "'" and text[1] in _IMPORT_STRIPPED:
        return text[1:]
    return text
