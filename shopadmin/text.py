"""Text folding for search and sorting (case- and accent-insensitive in the four languages),
and the e-mail key."""

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Letters that Unicode does not decompose into a base letter and an accent.
_SPECIAL = str.maketrans(
    {"ł": "l", "Ł": "l", "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o",
     "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d", "ı": "i"}
)
_NON_WORD = re.compile(r"[^0-9a-z@.+\-_ ]+")
_SPACES = re.compile(r"\s+")


def email_key(email: str) -> str:
    """The form of an e-mail address under which it is unique (customers and staff alike) and
    compared: surrounding spaces dropped, lower case."""
    return email.strip().lower()


def email_key_sql(column: Any) -> Any:
    """email_key() of a column of addresses, in SQL, for tables that keep the address as given
    (the mail log). SQLite's lower() folds ASCII letters only. (SQLAlchemy is imported here
    alone: the import's reading process uses this module without it.)"""
    from sqlalchemy import func

    return func.lower(func.trim(column))


@lru_cache(maxsize=100_000)
def fold(text: str | None) -> str:
    """Lowercase ASCII with accents removed: "Łódź" and "LODZ" both fold to "lodz"."""
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_SPECIAL)


@lru_cache(maxsize=100_000)
def fold_words(text: str | None) -> str:
    """fold(), with punctuation other than e-mail characters turned into single spaces."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()
