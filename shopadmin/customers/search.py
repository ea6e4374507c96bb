"""The search index of the register: the folded words under which a customer is found.

"Müller" is indexed as "muller" and "Łódź" as "lodz"; a search word matches every term that
starts with it. One behaviour, a store for each database:

- SQLite: an FTS5 table `customer_search`, one row per customer (rowid = customer id) holding
  its terms as tokens; a search is one prefix query. A customer costs one row, not one per term,
  which is what makes a million-row import fast, and the index a fifth of the size.
- PostgreSQL: the table `customer_search_vectors`, one row per customer holding its terms as a
  tsvector (lexemes exactly as folded here, no parser or dictionary in between) with a GIN index;
  a search is one tsquery of prefix matches (`'mul':* & 'lodz':*`). It replaced a table of one
  row per (term, customer), about 16 a customer, whose B-tree a million-row import filled in
  random order (bench/customers.py and bench/transfer_import.py measured both). As SQLite's
  `prefix='1 2'`, the first one and two letters of every term are lexemes of their own, marked
  with PREFIX_MARK ("^m", "^mu"), and a search word of one or two letters is looked up as that
  one lexeme (`'^mu'`), not as a prefix: the GIN index then reads one list instead of merging
  those of every term that starts with "mu" (the GIN lookup of the 62,947 matches of "mu" at a
  million: 31-54 ms as a prefix, 16-29 ms as one lexeme, alternated; see e3b7d2a9c4f1).

ORM changes keep the index current by themselves (a flush hook below); code that writes customers
with Core statements (the import, demo data) calls `index_new` or `reindex_customers`. Deleting a
customer removes its entry (a trigger on SQLite, the foreign key's cascade on PostgreSQL).
"""

import re
import struct
from collections.abc import Iterable

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Table,
    any_,
    cast,
    column,
    delete,
    event,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..batching import batched
from ..database import among
from ..extensions import db
from ..text import fold_words
from .models import Customer

# The terms themselves are made without Flask or a database (the import's reading process
# makes them): terms.py.
from .terms import _DIGITS, INDEXED, TERM_LENGTH, terms_text

BATCH = 2000
# PostgreSQL: the mark of a term's first one or two letters as a lexeme of its own; no folded
# term holds it (fold_words keeps only [0-9a-z@.+-_]).
PREFIX_MARK = "^"
SHORT = 2  # words up to this long are looked up by their prefix lexeme

# PostgreSQL's store (on SQLite the migrations leave it out; see customer_search below): a
# customer's terms as one tsvector, each term a lexeme as it is (written as tsvector text, not
# through to_tsvector, whose parser would split "90-001" or an e-mail address its own way).
customer_search_vectors = Table(
    "customer_search_vectors",
    db.metadata,
    Column(
        "customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("terms", TSVECTOR, nullable=False),
    Index("ix_customer_search_vectors_terms", "terms", postgresql_using="gin"),
    info={"dialects": ("postgresql",)},
)

# SQLite's store: an FTS5 table (not in the metadata; made by migration 49df0c3c7722), whose
# tokenizer keeps a term of [0-9a-z@.+-_] one token, with the terms' first one and two letters
# indexed too (a search for "k" or "mu" matches most of a big register: one list to read
# instead of thousands to merge), and a trigger that forgets deleted customers.
customer_search = table("customer_search", column("rowid"), column("terms"))

_AROUND = "-.'_+"
_PHONE_QUERY = re.compile(r"\+?[\d\s\-/().]{5,}")


def query_words(query: str) -> list[tuple[str, ...]]:
    """The words of a search box entry, folded, each with its alternatives: a number written
    with spaces or dashes (a phone number, a postcode) is also tried as one word of digits."""
    query = query.strip()
    words = [(word[:TERM_LENGTH],) for word in fold_words(query).split()]
    if _PHONE_QUERY.fullmatch(query) and len(digits := _DIGITS.sub("", query)) >= 5:
        alternatives = {fold_words(query).replace(" ", ""), digits, digits.lstrip("0") or "0"}
        return [tuple(sorted(alternatives))]
    # Punctuation around a word is no part of it ("J." is "j"); a single letter beside longer
    # words ("O'Brien" folds to "o brien", "J. Smith") is left out: no term is one letter long,
    # so it would match nothing there but the start of a longer word.
    words = [(trimmed,) for (word,) in words if (trimmed := word.strip(_AROUND))] or words
    longer = [word for word in words if len(word[0]) > 1]
    return longer or words


def _quoted(term: str) -> str:
    """A term as one lexeme of tsvector or tsquery text (quoted: no character is special)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def vector_text(terms: str) -> str:
    """PostgreSQL: terms joined by spaces (as index_new takes them) as tsvector text. Our terms
    hold none of the characters tsvector text treats specially (quote, backslash, colon): they
    go as they are, and only a text that holds one is quoted term by term."""
    if "'" in terms or "\\" in terms or ":" in terms:
        return " ".join(_quoted(term) for term in terms.split())
    return terms


def with_prefixes(terms: str) -> str:
    """PostgreSQL: terms joined by spaces, with the marked first one and two letters of each
    (as lexemes of their own: "muller" gives "^m" and "^mu")."""
    # Some 9 us for a customer's 19 terms (against 17 for terms_text), measured under load.
    twos = {word[:SHORT] for word in terms.split()}
    ones = {two[:1] for two in twos}
    return " ".join((terms, *(PREFIX_MARK + two for two in twos),
                     *(PREFIX_MARK + one for one in ones)))


# COPY's binary format (PostgreSQL): the signature, flags and header extension before the rows,
# and the end mark after them; a row of customer_search_vectors: two fields, the id (4 bytes),
# then the vector's length and its number of lexemes.
COPY_BINARY_START = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_BINARY_END = b"\xff\xff"
_VECTOR_ROW = struct.Struct("!hiiii")


def vector_copy_row(customer_id: int, terms: str) -> bytes:
    """PostgreSQL: a customer's row of customer_search_vectors in COPY's binary format: the
    lexemes of with_prefixes(terms), each once, as the tsvector's binary form (each lexeme's
    UTF-8 bytes, a NUL, and no positions). The server neither parses nor quotes anything (any
    character but NUL is part of a lexeme here) and puts them in order itself, in C: at
    100,000 customers, 0.8 s of the client's CPU and 0.8 s of the server's, against 0.8 s and
    1.3 s for the same vectors as tsvector text, and 1.3 s and 0.4 s with the lexemes sorted
    here."""
    words = set(terms.split())
    prefixes = {word[:SHORT] for word in words}
    prefixes |= {two[:1] for two in prefixes}
    if not words:
        text, count = "", 0
    elif PREFIX_MARK in terms:  # (never from our folding) a term may be a prefix lexeme too
        lexemes = words | {PREFIX_MARK + prefix for prefix in prefixes}
        text, count = "\0\0\0".join(lexemes) + "\0\0\0", len(lexemes)
    else:
        text = "\0\0\0".join(words) + "\0\0\0" + PREFIX_MARK \
            + f"\0\0\0{PREFIX_MARK}".join(prefixes) + "\0\0\0"
        count = len(words) + len(prefixes)
    body = text.encode()
    return _VECTOR_ROW.pack(2, 4, customer_id, 4 + len(body), count) + body


def _lexeme_query(word: str) -> str:
    if len(word) <= SHORT:
        return _quoted(PREFIX_MARK + word)
    return f"{_quoted(word)}:*"


def prefix_query(words: list[tuple[str, ...]]) -> str:
    """PostgreSQL: the tsquery text that matches a customer when a term of theirs starts with
    each word (or one of its alternatives): `('601234567':* | '0601234567':*) & 'nowak':*`; a
    word of one or two letters as its prefix lexeme: `'^mu' & 'anna':*`."""
    return " & ".join(
        "(" + " | ".join(_lexeme_query(word) for word in alternatives) + ")"
        for alternatives in words)


def vector_match(words: list[tuple[str, ...]]):
    """PostgreSQL: the condition on customer_search_vectors for these words (each a prefix)."""
    return customer_search_vectors.c.terms.op("@@")(cast(literal(prefix_query(words)), TSQUERY))


def _on_sqlite(connection: Connection | None = None) -> bool:
    return (connection.dialect if connection is not None else db.engine.dialect).name == "sqlite"


def text_match(words: list[tuple[str, ...]]):
    """SQLite: the MATCH of customer_search for these words (each a prefix)."""
    query = " AND ".join(
        "(" + " OR ".join(f'"{w}"*' for w in alternatives) + ")" for alternatives in words)
    return literal_column("customer_search").op("MATCH")(query)


def matching(ident, words: list[tuple[str, ...]]) -> list:
    """Conditions on the customer id `ident`: a term of the customer starts with each word (or
    one of its alternatives)."""
    if not words:
        return []
    if _on_sqlite():
        return [ident.in_(select(customer_search.c.rowid).where(text_match(words)))]
    found = select(customer_search_vectors.c.customer_id).where(vector_match(words))
    if any(len(word) <= 2 for alternatives in words for word in alternatives):
        # Most of a register matches "k" or "mu": the planner may walk a sort order's index and
        # keep the matches, which finds a page within a few hundred customers.
        return [ident.in_(found)]
    # Longer words: the matches first (the GIN index), then each customer by id. As a plain
    # IN, the planner walks the name index for "wisniewska" too (a share of 0.7% makes 50
    # matches look close), passing every name before W: 23.8 s against 1.1 s measured at
    # 1,000,000 customers (EXPLAIN ANALYZE, same minute, machine load 20 on 2 cores).
    return [ident == any_(func.array(found.scalar_subquery()))]


def matching_among(customer_ids: list[int], words: list[tuple[str, ...]]) -> set[int]:
    """Those of `customer_ids` whose terms match every word (as `matching` does), read by id:
    for a word of a letter or two, which most of a register matches, testing the customers a
    page walks past costs less than listing all that match. On PostgreSQL the customers' rows
    are taken by id first (a materialized step: a `@@` beside the ids may draw the GIN index
    in, which for "k" merges the lists of every term that starts with k), then tested by the
    server (a kept search tests every customer an import writes: some 20 % of a web process's
    time when it did so here); on SQLite the terms are compared here."""
    if not customer_ids:
        return set()
    if not _on_sqlite():
        vectors = customer_search_vectors.c
        chosen = select(vectors.customer_id, vectors.terms).where(
            among(vectors.customer_id, customer_ids, "postgresql")
        ).cte("chosen").prefix_with("MATERIALIZED")
        return set(db.session.scalars(select(chosen.c.customer_id).where(
            chosen.c.terms.op("@@")(cast(literal(prefix_query(words)), TSQUERY)))))
    rows = db.session.execute(select(customer_search.c.rowid, customer_search.c.terms)
                              .where(among(customer_search.c.rowid, customer_ids, "sqlite")))
    found = set()
    for customer_id, terms in rows:
        terms = terms.split()
        if all(any(term.startswith(word) for word in alternatives for term in terms)
               for alternatives in words):
            found.add(customer_id)
    return found


def index_new(connection: Connection, entries: Iterable[tuple[int, str]]) -> None:
    """Index customers that have no entry yet: (customer id, their terms joined by spaces),
    straight through the driver (the index is written for every customer a big import makes)."""
    cursor = connection.connection.driver_connection.cursor()
    try:
        if _on_sqlite(connection):
            cursor.executemany("INSERT INTO customer_search (rowid, terms) VALUES (?, ?)",
                               [entry for entry in entries if entry[1]])
        else:
            # One binary COPY (psycopg 3), sent in parts as they are made (the server reads
            # one part while the next is made).
            with cursor.copy("COPY customer_search_vectors (customer_id, terms) FROM STDIN "
                             "(FORMAT BINARY)") as copy:
                copy.write(COPY_BINARY_START)
                for part in batched((entry for entry in entries if entry[1]), 500):
                    copy.write(b"".join([vector_copy_row(*entry) for entry in part]))
                copy.write(COPY_BINARY_END)
    finally:
        cursor.close()


def _forget(connection: Connection, customer_ids: list[int]) -> None:
    if _on_sqlite(connection):
        connection.execute(delete(customer_search).where(customer_search.c.rowid.in_(customer_ids)))
    else:
        connection.execute(delete(customer_search_vectors).where(
            customer_search_vectors.c.customer_id.in_(customer_ids)))


def reindex_customers(customer_ids: Iterable[int], connection: Connection | None = None) -> None:
    """Rebuild the terms of these customers from their stored values (Core, in batches)."""
    connection = connection or db.session.connection()
    ids = list(customer_ids)
    columns = [Customer.__table__.c.id] + [Customer.__table__.c[name] for name in INDEXED]
    for chunk in batched(ids, BATCH):
        rows = connection.execute(select(*columns).where(Customer.__table__.c.id.in_(chunk)))
        entries = [(row.id, terms_text(row._mapping)) for row in rows]
        if _on_sqlite(connection):
            _forget(connection, chunk)
            index_new(connection, entries)
        else:
            _reindex_postgresql(connection, entries)


def _reindex_postgresql(connection: Connection, entries: list[tuple[int, str]]) -> None:
    """PostgreSQL: the customers' vectors written in one statement, and only those that
    changed: a vector rewritten puts all its lexemes into the GIN index again, and an import
    that changes a customer's newsletter or notes leaves their terms as they were. (At 100,000
    customers: 0.2 s of the server's CPU when nothing changed, 4.3 s when every vector did;
    deleting and copying them all in again cost the latter each time.) A customer without terms
    has no entry."""
    vectors = [vector_text(with_prefixes(terms)) if terms else None for _id, terms in entries]
    connection.exec_driver_sql(
        "INSERT INTO customer_search_vectors AS old (customer_id, terms) "
        "SELECT customer_id, terms FROM unnest(%s::integer[], %s::tsvector[]) "
        "AS new(customer_id, terms) WHERE terms IS NOT NULL "
        "ON CONFLICT (customer_id) DO UPDATE SET terms = excluded.terms "
        "WHERE old.terms <> excluded.terms",
        ([customer_id for customer_id, _terms in entries], vectors))
    if None in vectors:
        _forget(connection, [customer_id for (customer_id, _terms), vector
                             in zip(entries, vectors, strict=True) if vector is None])


def indexed_terms(customer_id: int, connection: Connection | None = None) -> set[str]:
    """The terms the index holds for one customer."""
    connection = connection or db.session.connection()
    if _on_sqlite(connection):
        stored = connection.execute(select(customer_search.c.terms).where(
            customer_search.c.rowid == customer_id)).scalar()
        return set((stored or "").split())
    stored = connection.execute(select(func.tsvector_to_array(customer_search_vectors.c.terms))
                                .where(customer_search_vectors.c.customer_id == customer_id))
    return {term for term in stored.scalar() or () if not term.startswith(PREFIX_MARK)}


def indexed_customers(connection: Connection | None = None) -> int:
    """How many customers the index holds."""
    connection = connection or db.session.connection()
    if _on_sqlite(connection):
        return connection.execute(select(func.count()).select_from(customer_search)).scalar()
    return connection.execute(select(func.count()).select_from(customer_search_vectors)).scalar()


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
