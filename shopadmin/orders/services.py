"""Orders: listing, status changes, erasure, and the storefront's API keys. Flush, never commit."""

import hashlib
import re
import secrets
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, cast, false, func, literal, or_, select, update
from sqlalchemy import text as sa_text
from sqlalchemy.dialects.postgresql import TSQUERY

from ..audit import record_event
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..formats import day_or_none, store_zone
from ..text import email_key, fold
from .models import ApiKey, Order, OrderStatus

PAGE_SIZE = 50
TRIGRAM = 3  # the shortest text (and, on PostgreSQL, piece of it) an index finds
FEW_MATCHES = 2000  # up to this many, the orders of a search are read by id and sorted
# Where the words of the orders' search text break on PostgreSQL: ASCII white space and
# punctuation, exactly as order_search_words() splits them (migration c6f2a8d4e1b9).
WORD_BREAKS = re.compile(r"[\t\n\x0b\x0c\r !-/:-@\[-`{-~]+")
SEARCH_TEXT_LENGTH = Order.search_text.type.length


@dataclass
class OrderQuery:
    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""  # "guest", "registered" or "" for both
    country: str = ""
    sort: str = "newest"
    after: str = ""  # keyset cursor: "<placed_at ISO>_<id>" of the last row shown


def _cursor(order: Order) -> str:
    return f"{order.placed_at.isoformat()}_{order.id}"


def _day_start(day: date) -> datetime:
    """Midnight of the day in the store's time zone, in UTC as the orders are stored."""
    return datetime.combine(day, time.min, tzinfo=store_zone()).astimezone(UTC)


def _known_number(text: str) -> str | None:
    """The order number the text names (as typed or upper-cased), found through its index."""
    return db.session.scalar(select(Order.number).where(Order.number.in_({text, text.upper()})))


def suffix_query(folded: str) -> str:
    """PostgreSQL: the tsquery text of the lexemes (suffixes of words) that an order whose
    search text holds `folded` has, or "" when no piece of it is long enough.

    A piece of the text that a word break follows ends a word of the order, so it is one of
    that word's suffixes exactly (`'anna'`); any other piece starts one (`'falm':*`). An exact
    lexeme is one posting list, where a prefix merges those of every suffix it starts: a
    common first name typed whole costs little beside the rare word after it."""
    pieces = WORD_BREAKS.split(folded)
    terms = {(f"'{piece}'" if index < len(pieces) - 1 else f"'{piece}':*"): None
             for index, piece in enumerate(pieces) if len(piece) >= TRIGRAM}
    # The pieces hold no quote or backslash (WORD_BREAKS takes them out): quoted as they are.
    return " & ".join(terms)


def _containing(folded: str):
    """Orders whose folded name or e-mail contains `folded`, found through an index.

    PostgreSQL: the GIN index of every word's suffixes (order_search_words, migration
    c6f2a8d4e1b9) finds the orders whose words hold each piece of the text (suffix_query);
    the LIKE then keeps those that hold the text as typed (across the word breaks). A text
    longer than any search text is found in no order (and would not fit a lexeme).
    On SQLite the FTS5 trigram table finds the orders of a rare word (a name, part of an
    e-mail) by id; a word that thousands of orders hold is left to the LIKE, because walking
    the date index meets a page of them at once, where sorting all of them would not."""
    like = Order.search_text.contains(folded, autoescape=True)
    if len(folded) < TRIGRAM:
        return like
    if db.session.get_bind().dialect.name != "sqlite":
        if len(folded) > SEARCH_TEXT_LENGTH:
            return false()
        words = suffix_query(folded)
        if not words:
            return like
        return and_(func.order_search_words(Order.search_text).op("@@")(
            cast(literal(words), TSQUERY)), like)
    phrase = '"' + folded.replace('"', '""') + '"'
    found = db.session.scalars(
        sa_text("SELECT rowid FROM order_search WHERE order_search MATCH :phrase LIMIT :most"),
        {"phrase": phrase, "most": FEW_MATCHES + 1}).all()
    return like if len(found) > FEW_MATCHES else Order.id.in_(found)


def order_query(args) -> OrderQuery:
    """The list's search and filters from its query string (as bookmarked or exported)."""
    def day(name: str) -> date | None:
        return day_or_none(args.get(name))

    return OrderQuery(q=args.get("q", ""), status=args.get("status", ""),
                      date_from=day("date_from"), date_to=day("date_to"),
                      kind=args.get("kind", ""), country=args.get("country", "").strip(),
                      sort=args.get("sort", "newest"), after=args.get("after", ""))


def filter_orders(stmt, query: OrderQuery):
    """The statement narrowed to the orders the search and filters of `query` match."""
    text = query.q.strip()
    if text:
        if "@" in text:
            stmt = stmt.where(Order.email_key == email_key(text))
        elif number := _known_number(text):
            stmt = stmt.where(Order.number == number)
        else:
            stmt = stmt.where(_containing(fold(text)))
    if query.status in OrderStatus.__members__.values():
        stmt = stmt.where(Order.status == OrderStatus(query.status))
    if query.date_from:
        stmt = stmt.where(Order.placed_at >= _day_start(query.date_from))
    if query.date_to:
        stmt = stmt.where(Order.placed_at < _day_start(query.date_to + timedelta(days=1)))
    if query.kind == "guest":
        stmt = stmt.where(Order.customer_id.is_(None))
    elif query.kind == "registered":
        stmt = stmt.where(Order.customer_id.is_not(None))
    if query.country:
        stmt = stmt.where(Order.country == query.country.upper())
    return stmt


def list_orders(query: OrderQuery, limit: int = PAGE_SIZE) -> tuple[list[Order], str | None]:
    """One page of orders and the cursor of the next page (None on the last page).

    Keyset pagination over (placed_at, id), which every filter index ends with, so that any
    page costs the same as the first whatever the table's size."""
    stmt = filter_orders(select(Order), query)
    newest = query.sort != "oldest"
    if query.after:
        placed, _, last_id = query.after.rpartition("_")
        try:
            key = (datetime.fromisoformat(placed), int(last_id))
        except ValueError:
            key = None
        if key:
            if newest:
                stmt = stmt.where(or_(Order.placed_at < key[0],
                                      and_(Order.placed_at == key[0], Order.id < key[1])))
            else:
                stmt = stmt.where(or_(Order.placed_at > key[0],
                                      and_(Order.placed_at == key[0], Order.id > key[1])))
    if newest:
        stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc())
    else:
        stmt = stmt.order_by(Order.placed_at, Order.id)
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    following = _cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], following


def customer_orders(customer_id: int, limit: int | None = None
                    ) -> tuple[list[Order], int, dict[str, object]]:
    """A customer's orders newest first (the latest `limit`), their count and the total spent
    per currency (cancelled orders left out)."""
    orders = list(db.session.scalars(
        select(Order).where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    ))
    count = len(orders) if limit is None or len(orders) < limit else db.session.execute(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
    ).scalar_one()
    spent = db.session.execute(
        select(Order.currency, func.sum(Order.total))
        .where(Order.customer_id == customer_id, Order.status != OrderStatus.CANCELLED)
        .group_by(Order.currency).order_by(Order.currency)
    ).all()
    return orders, count, {currency: amount for currency, amount in spent}


def get_order(number: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.number == number))


def change_status(order: Order, status: OrderStatus, actor) -> None:
    """Set an order's status (admins only, checked by the view), recorded as an audit event."""
    if order.status == status:
        raise DomainError(_l("The order already has this status."), "status")
    before = order.status
    order.status = status
    db.session.flush()
    record_event("order.status", "order", order.id, actor=actor,
                 changes={"status": [before.value, status.value]})


def anonymise_orders_of(customer_ids: list[int], emails: Set[str] = frozenset()) -> int:
    """Keep the customers' orders, and guest orders from their addresses, for the books but
    strip them of personal data.

    Called when customers are forgotten, before they are deleted; returns how many orders."""
    mine: ColumnElement[bool] = Order.customer_id.in_(customer_ids)
    if emails:
        mine = or_(mine, Order.email_key.in_(sorted(emails)))
    result = db.session.execute(
        update(Order).where(mine).values(
            customer_id=None, email="", email_key="", name="", search_text="", phone="",
            billing_address={}, shipping_address={}, anonymised=True,
        ).execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.expire_all()
    return result.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult


# --- API keys ---------------------------------------------------------------------------------

def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(name: str, actor) -> tuple[ApiKey, str]:
    """A new key: returns the record and the key itself, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise DomainError(_l("Please give the key a name."), "name")
    secret = "sk_" + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, prefix=secret[:10], key_hash=hash_key(secret),
                     created_by_id=actor.id if actor else None)
    db.session.add(api_key)
    db.session.flush()
    record_event("api_key.created", "api_key", api_key.id, actor=actor, changes={"name": name})
    return api_key, secret


def revoke_api_key(api_key: ApiKey, actor) -> None:
    if api_key.revoked_at is not None:
        raise DomainError(_l("This key has already been revoked."))
    api_key.revoked_at = utcnow()
    db.session.flush()
    record_event("api_key.revoked", "api_key", api_key.id, actor=actor)


def find_api_key(secret: str) -> ApiKey | None:
    """The live key with this secret, or None (unknown or revoked)."""
    if not secret:
        return None
    api_key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    return api_key
