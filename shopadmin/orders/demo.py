"""Realistic demo orders for the demo customers and some guests, inserted in bulk."""

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..text import email_key, fold
from .models import Order, OrderLine, OrderStatus, PaymentStatus, search_text

PRODUCTS = [
    ("MUG-01", "Ceramic mug", "12.50"), ("TEA-20", "Green tea, 20 bags", "6.90"),
    ("TSH-M", "Organic T-shirt, size M", "24.00"), ("BAG-07", "Canvas tote bag", "15.00"),
    ("NTB-A5", "Notebook A5, dotted", "9.80"), ("PEN-03", "Fountain pen", "39.00"),
    ("CND-SO", "Soy candle", "18.40"), ("SCK-42", "Wool socks, pair", "11.90"),
]
GUEST_NAMES = ["Jan Kowalski", "Lena Schmidt", "Chloé Dubois", "Piotr Zieliński", "Emma Müller",
               "Lucas Bernard", "Zofia Wójcik", "Noah Fischer"]
GUEST_ADDRESSES = [("Hauptstraße 12", "10115", "Berlin"), ("ul. Piotrkowska 104", "90-004", "Łódź"),
                   ("12 rue des Lilas", "69003", "Lyon"), ("Keizersgracht 221", "1016 DV",
                   "Amsterdam"), ("Mariahilfer Straße 45", "1060", "Wien")]
COUNTRIES = {"EUR": ["DE", "FR", "NL", "AT", "BE"], "PLN": ["PL"]}
STATUS_WEIGHTS = [(OrderStatus.COMPLETED, 60), (OrderStatus.SHIPPED, 15),
                  (OrderStatus.PROCESSING, 10), (OrderStatus.NEW, 10), (OrderStatus.CANCELLED, 5)]
BATCH = 5000


def _status(rng: random.Random) -> OrderStatus:
    return rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]


def generate_orders(n: int, rng: random.Random, guest_share: float = 0.15) -> int:
    """Insert n orders with 1-4 lines each over the last two years, for random live customers
    and (guest_share of them) guests; EUR or PLN. Flushes through Core; the caller commits.

    Buyers are drawn BATCH at a time by random id and fetched together, so that memory stays
    flat however large the register."""
    low, high = db.session.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    start = (db.session.scalar(select(func.max(Order.id))) or 0) + 1
    now = utcnow()
    orders, lines = [], []
    buyers: list = []
    for offset in range(n):
        order_id = start + offset
        if not buyers and low is not None:
            buyers = _draw_buyers(rng, low, high)
        customer = buyers.pop() if buyers and rng.random() >= guest_share else None
        if customer:
            name = f"{customer.first_name} {customer.last_name}".strip()
            email, country = customer.email, customer.billing_country
            street = f"{customer.billing_address1} {customer.billing_house_number}".strip()
            postcode, city = customer.billing_postcode, customer.billing_city
        else:
            name, (street, postcode, city) = rng.choice(GUEST_NAMES), rng.choice(GUEST_ADDRESSES)
            email = f"{fold(name).replace(' ', '.')}.{order_id}@guest.example"
            country = None
        currency = "PLN" if country == "PL" or (not country and rng.random() < 0.3) else "EUR"
        country = country or rng.choice(COUNTRIES[currency])
        factor = Decimal("4.3") if currency == "PLN" else Decimal(1)
        subtotal = Decimal(0)
        for position, (sku, product, price) in enumerate(rng.sample(PRODUCTS, rng.randint(1, 4)),
                                                         start=1):
            quantity = rng.choice([1, 1, 1, 2, 3])
            unit = (Decimal(price) * factor).quantize(Decimal("0.01"))
            subtotal += unit * quantity
            lines.append({"order_id": order_id, "position": position, "sku": sku,
                          "name": product, "quantity": quantity, "unit_price": unit,
                          "line_total": unit * quantity})
        shipping = Decimal("0") if subtotal > 50 * factor else (Decimal("4.95") * factor).quantize(
            Decimal("0.01"))
        status = _status(rng)
        address = {"name": name, "address1": street, "postcode": postcode, "city": city,
                   "country": country}
        orders.append({
            "id": order_id, "number": f"D{order_id:08d}", "customer_id": customer.id if customer
            else None, "placed_at": now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
            "status": status.value,
            "payment_status": (PaymentStatus.REFUNDED if status == OrderStatus.CANCELLED
                               else PaymentStatus.PAID).value,
            "currency": currency, "subtotal": subtotal, "shipping": shipping,
            "total": subtotal + shipping, "email": email, "email_key": email_key(email),
            "name": name, "search_text": search_text(name, email), "phone": "",
            "country": country, "billing_address": address, "shipping_address": address,
            "anonymised": False})
        if len(orders) >= BATCH:
            _flush(orders, lines)
    _flush(orders, lines)
    return n


def _draw_buyers(rng: random.Random, low: int, high: int) -> list:
    """Live customers with random ids (ids of deleted ones are drawn again next time)."""
    ids = {rng.randint(low, high) for _ in range(BATCH)}
    buyers = list(db.session.execute(select(
        Customer.id, Customer.email, Customer.first_name, Customer.last_name,
        Customer.billing_country, Customer.billing_address1, Customer.billing_house_number,
        Customer.billing_postcode, Customer.billing_city,
    ).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))).all())
    rng.shuffle(buyers)
    return buyers


def _flush(orders: list, lines: list) -> None:
    if orders:
        db.session.execute(insert(Order), orders)
        db.session.execute(insert(OrderLine), lines)
    orders.clear()
    lines.clear()
