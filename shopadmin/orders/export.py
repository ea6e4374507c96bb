"""Orders as a second kind of export: one row per order line, the order's columns repeated
(as shop platforms export orders), in the formats and background jobs of customer exports."""

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import func, select

from ..exports.kinds import ExportKind, cell, query_args
from ..extensions import db
from ..registry import registry
from .models import Order, OrderLine
from .services import filter_orders, order_query

BATCH = 2000


@dataclass(frozen=True)
class OrderColumn:
    name: str
    heading: str  # canonical English
    label: object  # translated
    part: str = ""  # "billing" / "shipping": a key of that address; "line": an order line's
    key: str = ""  # the key in the address, for an address column (its name says which address)

    @property
    def group(self):
        """The heading the column picker shows it under: its address, or the order lines."""
        return ADDRESS_LABELS[self.part][1] if self.part in ADDRESS_LABELS else \
            LINE_HEADING if self.part == "line" else None


ADDRESS_PARTS = [("name", "Name", _lp("person", "Name")),
                 ("company", "Company", _l("Company name")),
                 ("address1", "Address 1", _l("Address 1")),
                 ("house_number", "House number", _l("House number")),
                 ("address2", "Address 2", _l("Address 2")),
                 ("postcode", "Postcode", _l("Postcode")), ("city", "City", _l("City")),
                 ("region", "Region", _l("Region")), ("country", "Country", _l("Country"))]
ADDRESS_LABELS = {"billing": ("Billing", _l("Billing address")),
                  "shipping": ("Shipping", _l("Shipping address"))}
LINE_HEADING = _l("Order lines")

COLUMNS = [
    OrderColumn("number", "Order number", _l("Order number")),
    OrderColumn("placed_at", "Date", _l("Date")),
    OrderColumn("status", "Status", _l("Status")),
    OrderColumn("payment_status", "Payment status", _l("Payment")),
    OrderColumn("customer_id", "Customer ID", _l("Customer ID")),
    OrderColumn("email", "E-mail", _l("E-mail")),
    OrderColumn("name", "Name", _lp("person", "Name")),
    OrderColumn("phone", "Phone", _l("Phone")),
    OrderColumn("currency", "Currency", _l("Currency")),
    OrderColumn("subtotal", "Subtotal", _l("Subtotal")),
    OrderColumn("shipping", "Shipping costs", _l("Shipping costs")),
    OrderColumn("total", "Total", _l("Total")),
    *(OrderColumn(f"{kind}_{key}", f"{ADDRESS_LABELS[kind][0]} {heading.lower()}",
                  _l("%(address)s: %(part)s", address=ADDRESS_LABELS[kind][1], part=label), kind,
                  key)
      for kind in ("billing", "shipping") for key, heading, label in ADDRESS_PARTS),
    OrderColumn("position", "Line", _l("Line"), "line"),
    OrderColumn("sku", "SKU", _l("SKU"), "line"),
    OrderColumn("product", "Product", _l("Product"), "line"),
    OrderColumn("quantity", "Quantity", _l("Quantity"), "line"),
    OrderColumn("unit_price", "Unit price", _l("Unit price"), "line"),
    OrderColumn("line_total", "Line total", _l("Line total"), "line"),
]
ORDER_FIELDS = [c.name for c in COLUMNS if not c.part]
LINE_FIELDS = {"position": OrderLine.position, "sku": OrderLine.sku, "product": OrderLine.name,
               "quantity": OrderLine.quantity, "unit_price": OrderLine.unit_price,
               "line_total": OrderLine.line_total}


def headings(columns: list[OrderColumn], language: str | None) -> list[str]:
    if not language:
        return [c.heading for c in columns]
    with force_locale(language):
        return [str(c.label) for c in columns]


def count(query: str) -> int:
    ids = filter_orders(select(Order.id), order_query(query_args(query)))
    matching = db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    # One row per line: count the lines of the matching orders (an order has at least one).
    lines = db.session.execute(select(func.count()).select_from(OrderLine).where(
        OrderLine.order_id.in_(ids))).scalar_one()
    return max(matching, lines)


def rows(columns: list[OrderColumn], query: str, guard: bool = True) -> Iterator[list[str]]:
    """The orders matching the list's query string in id order, a row per line. The writer
    guards against formulas (guard is for kinds that do it in SQL)."""
    table = Order.__table__
    stmt = filter_orders(
        select(table.c.id, table.c.billing_address, table.c.shipping_address,
               *(table.c[name] for name in ORDER_FIELDS)),
        order_query(query_args(query)))
    line_columns = list(LINE_FIELDS.values())
    last = 0
    while True:
        batch = db.session.execute(
            stmt.where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not batch:
            return
        lines: dict[int, list] = {}
        for line in db.session.execute(
                select(OrderLine.order_id, *line_columns)
                .where(OrderLine.order_id.in_([row[0] for row in batch]))
                .order_by(OrderLine.order_id, OrderLine.position)):
            lines.setdefault(line[0], []).append(dict(zip(LINE_FIELDS, line[1:], strict=True)))
        for row in batch:
            order = dict(zip(ORDER_FIELDS, row[3:], strict=True))
            addresses = {"billing": row[1] or {}, "shipping": row[2] or {}}
            for line in lines.get(row[0]) or [{}]:
                yield [cell(line.get(c.name)) if c.part == "line"
                       else cell(addresses[c.part].get(c.key)) if c.part
                       else cell(order[c.name]) for c in columns]
        last = batch[-1][0]


def translator(columns: list[OrderColumn], language: str):
    """Rows in `language`: status and payment named, countries named, the order's time on the
    store's clock."""
    from babel import Locale

    from ..exports.values import Translate, local_moment, row_translator
    from .forms import PAYMENT_LABELS, STATUS_LABELS

    territories = Locale.parse(language).territories
    with force_locale(language):
        named = {"status": {s.value: str(label) for s, label in STATUS_LABELS.items()},
                 "payment_status": {str(s): str(label) for s, label in PAYMENT_LABELS.items()}}
    changes: list[tuple[int, Translate]] = []
    for index, column in enumerate(columns):
        if column.name in named:
            table = named[column.name]
            changes.append((index, lambda text, table=table: table.get(text, text)))
        elif column.key == "country" and column.part in ("billing", "shipping"):
            changes.append((index, lambda text: territories.get(text, text)))
        elif column.name == "placed_at":
            changes.append((index, local_moment))

    return row_translator(changes)


def init_app(app) -> None:
    registry(app).add_export_kind(ExportKind("orders", _l("Orders"), COLUMNS, headings, count,
                                             rows, translator=translator))
