"""The search index of the register: one row per folded word of a customer.

"Müller" is indexed as "muller" and "Łódź" as "lodz"; a search word matches every term that
starts with it, a range scan on the primary key (term, customer_id), fast on SQLite and PostgreSQL
alike. ORM changes keep the index current by themselves (a flush hook below); code that writes
customers with Core statements (the import, demo data) calls `reindex_customers` afterwards.
"""

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    and_,
    delete,
    event,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..extensions import db
from ..text import fold_words
from .models import Customer

TERM_LENGTH = 64
BATCH = 2000
_TermType = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")

customer_search_terms = Table(
    "customer_search_terms",
    db.metadata,
    Column("term", _TermType, primary_key=True),
    Column(
        "customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    ),
    Index("ix_customer_search_terms_customer_id", "customer_id"),
    sqlite_with_rowid=False,
)

# Terms of customers written in bulk (a big import), kept here in the order they come and moved
# into the index sorted, many at a time (merge_staged_terms): a sorted merge touches each page of
# the index once, where the same terms inserted batch by batch would touch most pages each time.
customer_search_staging = Table(
    "customer_search_staging",
    db.metadata,
    Column("term", _TermType, nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
)

WORD_FIELDS = (
    "first_name", "last_name_prefix", "last_name", "username", "company_name",
    "billing_city", "shipping_city", "shipping_company",
)
POSTCODE_FIELDS = ("billing_postcode", "shipping_postcode")
PHONE_FIELDS = ("phone", "mobile")
INDEXED = (*WORD_FIELDS, *POSTCODE_FIELDS, *PHONE_FIELDS, "email", "customer_number")
_INNER = re.compile(r"[-.'_+@]+")
_DIGITS = re.compile(r"\D+")
_PHONE_QUERY = re.compile(r"\+?[\d\s\-/().]{5,}")


@lru_cache(maxsize=100_000)
def _words(text: str | None) -> frozenset[str]:
    words: set[str] = set()
    for word in fold_words(text).split():
        words.add(word)
        words.update(part for part in _INNER.split(word) if part)
    return frozenset(words)


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
        terms |= _words(values.get(name))
    email = fold_words(values.get("email"))
    if email:
        local, _, domain = email.partition("@")
        terms |= {email, local, domain} | _words(local) | _words(domain)
    for name in POSTCODE_FIELDS:
        postcode = fold_words(values.get(name))
        if postcode:
            terms |= {postcode, postcode.replace(" ", ""), postcode.replace("-", "")}
    for name in PHONE_FIELDS:
        terms |= _phone_terms(values.get(name))
    number = fold_words(values.get("customer_number"))
    if number:
        terms |= {number.replace(" ", "")} | _words(number)
    return {term[:TERM_LENGTH] for term in terms if len(term) > 1 and " " not in term}


def query_words(query: str) -> list[tuple[str, ...]]:
    """The words of a search box entry, folded, each with its alternatives: a number written
    with spaces or dashes (a phone number, a postcode) is also tried as one word of digits."""
    query = query.strip()
    words = [(word[:TERM_LENGTH],) for word in fold_words(query).split()]
    if _PHONE_QUERY.fullmatch(query) and len(digits := _DIGITS.sub("", query)) >= 5:
        alternatives = {fold_words(query).replace(" ", ""), digits, digits.lstrip("0") or "0"}
        return [tuple(sorted(alternatives))]
    return words


def _after(prefix: str) -> str:
    """The first string after every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def matching_ids(word: str | tuple[str, ...]):
    """A select of the ids of customers with a term starting with `word` (or one of them)."""
    term = customer_search_terms.c.term
    alternatives = (word,) if isinstance(word, str) else word
    return select(customer_search_terms.c.customer_id).where(
        or_(*(and_(term >= w, term < _after(w)) for w in alternatives))
    )


def insert_terms(connection: Connection, pairs: list[tuple[str, int]],
                 table: str = "customer_search_terms") -> None:
    """Insert (term, customer_id) pairs through the driver directly: the search index is the
    largest table of the register, and SQLAlchemy's per-row parameter handling doubles the
    time of a bulk load. table: the index, or its staging table (see stage_terms)."""
    if not pairs:
        return
    marks = {"qmark": "?, ?", "format": "%s, %s", "pyformat": "%s, %s",
             "numeric": ":1, :2"}[connection.dialect.paramstyle]
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} (term, customer_id) VALUES ({marks})", pairs)
    finally:
        cursor.close()


def stage_terms(connection: Connection, pairs: list[tuple[str, int]]) -> None:
    """Keep the terms of new customers for the next merge_staged_terms (same transaction as
    the customers: a resumed import finds them there)."""
    insert_terms(connection, pairs, "customer_search_staging")


def merge_staged_terms(connection: Connection | None = None) -> int:
    """Move the staged terms into the index, sorted; returns how many. The caller commits.

    Into an empty index on SQLite (a first big import or demo load) the secondary index by
    customer is built afterwards, in one sorted pass, instead of row by row in term order.
    (Readers keep their snapshot meanwhile; on PostgreSQL dropping it would lock them out.)"""
    connection = connection or db.session.connection()
    by_customer = next(iter(customer_search_terms.indexes))
    rebuild = connection.dialect.name == "sqlite" and connection.execute(
        select(customer_search_terms.c.term).limit(1)).first() is None
    if rebuild:
        by_customer.drop(connection)
    staged = customer_search_staging.c
    rows = select(staged.term, staged.customer_id).order_by(staged.term, staged.customer_id)
    if connection.dialect.name == "postgresql":
        statement = postgresql_insert(customer_search_terms).from_select(
            ["term", "customer_id"], rows).on_conflict_do_nothing()
    else:
        statement = customer_search_terms.insert().from_select(
            ["term", "customer_id"], rows).prefix_with("OR IGNORE")
    moved = connection.execute(statement).rowcount
    connection.execute(delete(customer_search_staging))
    if rebuild:
        by_customer.create(connection)
    return moved


def reindex_customers(customer_ids: Iterable[int], connection: Connection | None = None) -> None:
    """Rebuild the terms of these customers from their stored values (Core, in batches)."""
    connection = connection or db.session.connection()
    ids = list(customer_ids)
    columns = [Customer.__table__.c.id] + [Customer.__table__.c[name] for name in INDEXED]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = connection.execute(select(*columns).where(Customer.__table__.c.id.in_(chunk)))
        new_terms = [(term, row.id) for row in rows for term in search_terms(row._mapping)]
        connection.execute(
            delete(customer_search_terms).where(customer_search_terms.c.customer_id.in_(chunk))
        )
        insert_terms(connection, new_terms)


@event.listens_for(Session, "after_flush")
def _reindex_flushed(session: Session, _context) -> None:
    ids = [
        obj.id
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Customer) and obj.id is not None
        and (obj in session.new or session.is_modified(obj, include_collections=False))
    ]
    if ids:
        reindex_customers(ids, session.connection())
