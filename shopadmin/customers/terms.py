"""The terms under which a customer is found, made from their values: plain Python, no Flask
and no database, so that the import's reading process makes them beside the writing one.
search.py stores them (and re-exports these names)."""

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..text import fold_words

TERM_LENGTH = 64

WORD_FIELDS = (
    "first_name", "last_name_prefix", "last_name", "username", "company_name",
    "billing_city", "shipping_city", "shipping_company",
)
POSTCODE_FIELDS = ("billing_postcode", "shipping_postcode")
PHONE_FIELDS = ("phone", "mobile")
INDEXED = (*WORD_FIELDS, *POSTCODE_FIELDS, *PHONE_FIELDS, "email", "customer_number")
_INNER = re.compile(r"[-.'_+@]+")
_DIGITS = re.compile(r"\D+")
_PLAIN_WORD = re.compile(r"[0-9A-Za-z]+")
_CHANGED_BY_FOLDING = re.compile(r"[^0-9a-z@.+\-_]")


@lru_cache(maxsize=100_000)
def _words(text: str | None) -> frozenset[str]:
    words: set[str] = set()
    for word in fold_words(text).split():
        words.add(word)
        words.update(part for part in _INNER.split(word) if part)
    return frozenset(words)


def _folded(text: str | None) -> str:
    """fold_words(text), without its cache for the plain ASCII texts (mostly unique: e-mail
    addresses, customer numbers, postcodes) that it would leave as they are once lowercased."""
    if not text:
        return ""
    if text.isascii():
        lowered = text.lower()
        if not _CHANGED_BY_FOLDING.search(lowered):
            return lowered
    return fold_words(text)


def _add_words(terms: set[str], text: str | None) -> None:
    """Add _words(text): a plain word of letters and digits directly, others through the cache."""
    if text:
        if _PLAIN_WORD.fullmatch(text):
            terms.add(text.lower())
        else:
            terms |= _words(text)


def _phone_terms(text: str | None) -> set[str]:
    digits = _DIGITS.sub("", text or "")
    if len(digits) < 3:
        return set()
    # The whole number, without its trunk zero, and the national part after a country code.
    return {digits, digits.lstrip("0"), digits[-9:]} - {""}


def search_terms(values: Mapping[str, Any]) -> set[str]:
    """Every term under which a customer with these values is found."""
    terms: set[str] = set()
    for name in WORD_FIELDS:
        _add_words(terms, values.get(name))
    email = _folded(values.get("email"))
    if email:
        local, _, domain = email.partition("@")
        terms.update((email, local, domain))
        _add_words(terms, local)
        _add_words(terms, domain)
    for name in POSTCODE_FIELDS:
        postcode = _folded(values.get(name))
        if postcode:
            terms.update((postcode, postcode.replace(" ", ""), postcode.replace("-", "")))
    for name in PHONE_FIELDS:
        if phone := values.get(name):
            terms |= _phone_terms(phone)
    number = _folded(values.get("customer_number"))
    if number:
        terms.add(number.replace(" ", ""))
        _add_words(terms, number)
    return {term[:TERM_LENGTH] for term in terms if len(term) > 1 and " " not in term}


def terms_text(values: Mapping[str, Any]) -> str:
    """A customer's terms as index_new takes them."""
    return " ".join(search_terms(values))
