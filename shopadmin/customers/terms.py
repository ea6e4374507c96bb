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
_CHANGED_BY_FOLDING = re.compile(r"[^0-9a-z@.+\-_]")


def _kept(terms) -> set[str]:
    """The terms an index keeps: of two characters or more, without a space, cut to
    TERM_LENGTH."""
    return {term[:TERM_LENGTH] for term in terms if len(term) > 1 and " " not in term}


@lru_cache(maxsize=100_000)
def _words(text: str | None) -> frozenset[str]:
    """The kept terms of a text's words and of their parts (cached: names and cities
    repeat)."""
    words: set[str] = set()
    for word in fold_words(text).split():
        words.add(word)
        words.update(part for part in _INNER.split(word) if part)
    return frozenset(_kept(words))


def _folded(text: str | None) -> str:
    """fold_words(text), without its cache for the plain ASCII texts (mostly unique: e-mail
    addresses, customer numbers, postcodes) that it would leave as they are once lowercased."""
    if not text:
        return ""
    if text.isascii():
        lowered = text.lower()
        if lowered.isalnum() or not _CHANGED_BY_FOLDING.search(lowered):
            return lowered
    return fold_words(text)


def _digits(text: str) -> str:
    """The decimal digits of a phone number (as _DIGITS.sub("", text); a number written with
    spaces, plus and hyphens only is read without the regular expression: a third of the
    terms' time went there)."""
    plain = text.replace(" ", "").replace("+", "").replace("-", "")
    return plain if plain.isdecimal() else _DIGITS.sub("", text)


def search_terms(values: Mapping[str, Any]) -> set[str]:
    """Every term under which a customer with these values is found."""
    # (Made for every new customer of an import, in one pass: a plain word of letters and
    # digits is taken as it is, other texts' words through the cache; the terms that may be
    # too short, too long or hold a space are checked together at the end.)
    terms: set[str] = set()
    add, get = terms.add, values.get
    words: list[str] = []
    for name in WORD_FIELDS:
        if text := get(name):
            words.append(text)
    candidates: list[str] = []
    if email := _folded(get("email")):
        local, _, domain = email.partition("@")
        candidates += (email, local, domain)
        words += (local, domain)
    for name in POSTCODE_FIELDS:
        if postcode := _folded(get(name)):
            candidates += (postcode, postcode.replace(" ", ""), postcode.replace("-", ""))
    for name in PHONE_FIELDS:
        if phone := get(name):
            digits = _digits(phone)
            if len(digits) >= 3:
                # The whole number, without its trunk zero, and the national part after a
                # country code.
                candidates += (digits, digits.lstrip("0"), digits[-9:])
    if number := _folded(get("customer_number")):
        candidates.append(number.replace(" ", ""))
        words.append(number)
    for text in words:
        if text.isascii() and text.isalnum():  # (a plain word: letters and digits alone)
            if len(text) > 1:
                add(text.lower()[:TERM_LENGTH])
        else:
            terms |= _words(text)
    if candidates:
        lengths = list(map(len, candidates))
        if min(lengths) > 1 and max(lengths) <= TERM_LENGTH and " " not in "".join(candidates):
            terms.update(candidates)  # (as they mostly are: all kept as they are)
        else:
            terms |= _kept(candidates)
    return terms


def terms_text(values: Mapping[str, Any]) -> str:
    """A customer's terms as index_new takes them."""
    return " ".join(search_terms(values))
