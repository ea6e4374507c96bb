"""The customer list as queries: filters from URL arguments, sorting, and paging that stays fast.

`customer_query(args)` turns the list's URL arguments into a select of customer ids; the export,
the bulk actions and the password mails reuse it, so "what the list shows" means one thing.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..formats import day_or_none, store_zone
from ..routing import database_id, database_ids
from . import paging, positions
from .choices import CustomerType
from .models import Customer, customer_group_members
from .search import matching, query_words

PER_PAGE = 50
# Sort orders with an index of their own. When many customers match, walking that index and
# keeping the matches finds a page after a few thousand entries, where fetching and sorting all
# matches would cost a row read each; few matches are read by id and sorted instead.
SORT_INDEXES = {"name", "created", "modified", "email", "number"}
WALK_SORT_INDEX_ABOVE = 2000
# A filtered list of more customers than this counted again after a change keeps its members.
KEEP_MEMBERS_ABOVE = 2000
SORTS = {
    "name": (Customer.last_name, Customer.first_name, Customer.id),
    "email": (Customer.email_key,),
    "created": (Customer.created_at, Customer.id),
    "modified": (Customer.updated_at, Customer.id),
    "number": (Customer.customer_number, Customer.id),
}
DEFAULT_SORT = "name"
FILTER_KEYS = ("q", "group", "country", "language", "newsletter", "approval", "type",
               "created_from", "created_to", "import", "warnings", "sort")


def _date(value: str | None) -> date | None:
    return day_or_none(value)


def _start_of(day: date) -> datetime:
    """Midnight of the day in the store's time zone, in UTC as the timestamps are stored."""
    return datetime.combine(day, time.min, tzinfo=store_zone()).astimezone(UTC)


def customer_query(args: MultiDict | dict[str, Any]) -> Select:
    """A select of the ids of live customers that match the list's search and filters."""
    return apply_filters(select(Customer.id), args)


def apply_filters(query: Select, args: MultiDict | dict[str, Any], *,
                  walk_order: bool = False, join_groups: bool = False) -> Select:
    """`query` (a select from customers) limited to live customers matching the filters.

    walk_order: write the id conditions so that no index can serve them (`id + 0`), which
    leaves SQLite (and PostgreSQL) to walk the sort order's index and keep the matches.
    join_groups: a group filter as a join from the group's members (for counting: each member
    looked up once by id, no list of ids built first)."""
    ident = (Customer.id + 0) if walk_order else Customer.id
    if not isinstance(args, MultiDict):
        args = MultiDict(args)
    query = query.where(Customer.deleted_at.is_(None))
    text = (args.get("q") or "").strip()
    if text:
        conditions = matching(ident, query_words(text))
        if database_id(text) is not None:
            conditions = [or_(ident == database_id(text), and_(*conditions))]
        query = query.where(*conditions)
    groups = database_ids(args.getlist("group"))
    for group_id in groups:
        if join_groups:
            members = customer_group_members.alias()
            query = query.join(members, and_(members.c.customer_id == Customer.id,
                                             members.c.group_id == group_id))
            continue
        members = customer_group_members.c
        query = query.where(
            ident.in_(select(members.customer_id).where(members.group_id == group_id))
        )
    if country := args.get("country"):
        query = query.where(Customer.billing_country == country.upper()[:2])
    if language := args.get("language"):
        query = query.where(Customer.language == language)
    if (newsletter := args.get("newsletter")) in ("yes", "no"):
        query = query.where(Customer.newsletter.is_(newsletter == "yes"))
    if (approval := args.get("approval")) in ("approved", "waiting"):
        query = query.where(Customer.approved.is_(approval == "approved"))
    if (kind := args.get("type")) in (CustomerType.PRIVATE.value, CustomerType.BUSINESS.value):
        query = query.where(Customer.customer_type == CustomerType(kind))
    if first := _date(args.get("created_from")):
        query = query.where(Customer.created_at >= _start_of(first))
    if last := _date(args.get("created_to")):
        query = query.where(Customer.created_at < _start_of(last + timedelta(days=1)))
    # The import's tables, read by name: the register does not import the import's code.
    changes, results = (Customer.metadata.tables[name]
                        for name in ("import_changes", "import_row_results"))
    import_id = database_id(args.get("import") or "")
    if import_id is not None:
        query = query.where(or_(Customer.import_id == import_id, ident.in_(
            select(changes.c.customer_id).where(
                changes.c.import_id == import_id,
                changes.c.customer_id.is_not(None)))))
    if args.get("warnings") == "yes":
        warned = select(results.c.customer_id).where(
            results.c.rejected.is_(False), results.c.customer_id.is_not(None))
        if import_id is not None:
            warned = warned.where(results.c.import_id == import_id)
        query = query.where(ident.in_(warned))
    return query



def count_customers(args) -> int:
    """How many live customers match; kept while the register is unchanged (see paging)."""
    if not isinstance(args, MultiDict):
        args = MultiDict(args)
    if paging.stampable(args):
        return _kept_count(args, paging.register_stamp())
    return _unstamped_count(args)


def _unstamped_count(args: MultiDict) -> int:
    """The count of a list the register's stamp does not see: an import's list (or its
    warnings') is kept while the register and the import tables are unchanged (counting reads
    one customer per warned row: 20,000 at a million customers, 80 ms and more); a search's is
    counted each time."""
    if paging.import_filtered(args):
        return paging.kept("count", args, paging.imports_stamp(), lambda: _count(args))
    return _count(args)


def _count(args: MultiDict) -> int:
    if not any(args.get(key) for key in FILTER_KEYS if key != "sort"):
        # Unfiltered: a bare count(*) lets the database count index pages without reading
        # entries (SQLite's b-tree count); the trash is small and taken off.
        every = db.session.scalar(select(func.count()).select_from(Customer))
        trashed = db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.deleted_at.is_not(None)))
        return every - trashed
    return db.session.scalar(
        apply_filters(select(func.count(Customer.id)), args, join_groups=True))


def parse_sort(value: str | None) -> tuple[str, bool]:
    value = value or DEFAULT_SORT
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORTS:
        return DEFAULT_SORT, False
    return key, descending


@dataclass
class Page:
    customers: list[Customer]
    total: int
    page: int
    pages: int
    per_page: int
    # True when more than `total` customers match (a search counted only up to a cap).
    more: bool = False


def list_customers(args, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the list. Pages in the back half are read from the end, so that the last
    page costs what the first does."""
    if not isinstance(args, MultiDict):
        args = MultiDict(args)
    from .search_pages import search_page, text_only

    stamp = paging.register_stamp() if paging.stampable(args) else None
    if (words := text_only(args)) is not None:
        return search_page(args, words, page, per_page, stamp)
    total = _kept_count(args, stamp) if stamp else _unstamped_count(args)
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    key, descending = parse_sort(args.get("sort"))
    columns = SORTS[key]
    offset = (page - 1) * per_page
    # (The first page never needs segments, nor the count of the whole register they take.)
    live = _kept_count(MultiDict(), stamp) if stamp and offset else 0
    if stamp and total > WALK_SORT_INDEX_ABOVE and paging.worth_segments(offset, total, live):
        every = paging.spacing(total, live)
        return Page(_from_positions(args, stamp, key, descending, offset, per_page, every),
                    total, page, pages, per_page)
    from_end = page > (pages + 1) // 2
    if from_end:
        offset = max(total - page * per_page, 0)
        limit = total - (page - 1) * per_page - offset
        reverse = not descending
    else:
        offset, limit, reverse = (page - 1) * per_page, per_page, descending
    order = [column.desc() if reverse else column.asc() for column in columns]
    # A text search often correlates with the order (a last name with the name order), which
    # would make the walk long; it is read by id.
    walk = total > WALK_SORT_INDEX_ABOVE and key in SORT_INDEXES and not args.get("q")
    query = apply_filters(select(Customer), args, walk_order=walk)
    query = query.order_by(*order).offset(offset).limit(limit)
    customers = list(db.session.scalars(query))
    if from_end:
        customers.reverse()
    return Page(customers, total, page, pages, per_page)


def _from_positions(args: MultiDict, stamp: tuple, key: str, descending: bool, offset: int,
                    per_page: int, every: int) -> list[Customer]:
    """A deep page: after the upper key of the segment before the one that holds its first
    customer, then a short offset (see positions)."""
    columns = SORTS[key]
    found = positions.positions_of(
        paging.filters_key(args), key, _selecting(args), columns, descending, every, stamp,
        bool(args.get("group")))
    with found.lock:
        upper, start = found.locate(offset)
    # The segment's start is at most some ANCHOR_EVERY customers of the register before the
    # page: walked through the sort order's index, never read through a filter's ids.
    query = apply_filters(select(Customer.id), args, walk_order=key in SORT_INDEXES)
    if upper is not None:
        query = query.where(paging.after(columns, upper, descending))
    order = [column.desc() if descending else column.asc() for column in columns]
    ids = list(db.session.scalars(query.order_by(*order).offset(start).limit(per_page)))
    found_customers = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)))}
    return [found_customers[customer_id] for customer_id in ids]


def whole_register(key: str, descending: bool, stamp: tuple) -> positions.Positions:
    """The segments of every live customer in this order (the unfiltered list's, as its deep
    pages keep them), brought up to `stamp`; a search places its pages through them
    (search_segments)."""
    return positions.positions_of(paging.filters_key(MultiDict()), key, _selecting(MultiDict()),
                                  SORTS[key], descending, paging.ANCHOR_EVERY, stamp, False)


def place_default_order(app) -> bool:
    """Place the unfiltered list's segments in its default order (what its deep pages and the
    searches sorted by it read) when the register is big enough to page by them; True when it
    did. A new web process does it in the background (serving.post_worker_init), so that the
    first member of staff to search does not wait the half second to a second it takes at a
    million customers."""
    with app.app_context():
        try:
            if count_customers(MultiDict()) <= WALK_SORT_INDEX_ABOVE:
                return False
            whole_register(*parse_sort(None), paging.register_stamp())
            return True
        finally:
            db.session.remove()


def _selecting(args: MultiDict):
    """select(*columns) of the live customers that match the list's filters."""
    return lambda *columns: apply_filters(select(*columns), args)


def _kept_count(args: MultiDict, stamp: tuple) -> int:
    """The count of a list whose filters the stamp sees: from its kept positions (moved along
    by the changes since) when a deep page placed it, else counted once per stamp. A big
    filtered list counted before, at another stamp, keeps its members from then on
    (positions.members_total): while an import runs, the register changes between any two
    requests, and each count would read every match again (at a million customers, half a
    second of the server's time for one country)."""
    filters, grouped = paging.filters_key(args), bool(args.get("group"))
    total = positions.kept_total(filters, stamp, _selecting(args), grouped)
    if total is not None:
        return total
    before = paging.kept_before("count", args, stamp)
    if filters and before is not None and before > KEEP_MEMBERS_ABOVE:
        return positions.members_total(filters, stamp, _selecting(args), grouped)
    return paging.kept("count", args, stamp, lambda: _count(args))
