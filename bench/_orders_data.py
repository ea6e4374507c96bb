"""The data of the orders bench (bench/orders.py): 1,000,000 customers and 5,000,000 orders
made by the database itself (INSERT ... SELECT over a series), with the indexes made after the
rows; names of some 9,000 family names, so that a name is rare, as in a register."""

import enum
import os
import time
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    String,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.sql.elements import ClauseElement

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
ORDERS = int(os.environ.get("BENCH_ORDERS", 5_000_000))
BATCH = 20_000
START = datetime(2021, 1, 1, tzinfo=UTC)
SECONDS_APART = 31  # 5,000,000 orders over about five years
STATUSES = ("completed",) * 6 + ("shipped", "processing", "new", "cancelled")
FIRST_NAMES = ("Anna", "Łukasz", "Zofia", "Jürgen", "Chloé", "Oliver", "Małgorzata", "Lena",
               "François", "Amelia", "Paweł", "Sören")
FOLDED_FIRST_NAMES = ("Anna", "Lukasz", "Zofia", "Jurgen", "Chloe", "Oliver", "Malgorzata",
                      "Lena", "Francois", "Amelia", "Pawel", "Soren")
# Family names of three syllables: some 9,000 of them, so that a name is rare, as in a register.
SYLLABLES = ("kow", "al", "ski", "wis", "niew", "ber", "gar", "mul", "ler", "dup", "ont", "lef",
             "hof", "man", "zie", "lin", "ka", "mor", "eau", "bon", "net")


def customer_name(number: int) -> tuple[str, str]:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    n = number * 7919 % len(SYLLABLES) ** 3
    parts = (n // len(SYLLABLES) ** 2, n // len(SYLLABLES) % len(SYLLABLES), n % len(SYLLABLES))
    return first, "".join(SYLLABLES[p] for p in parts).capitalize()


def _series(count: int, sqlite: bool):
    """A selectable of the numbers 1..count as column `i` (a recursive CTE on SQLite)."""
    if not sqlite:
        return select(func.generate_series(1, count).cast(BigInteger).label("i")).subquery()
    numbers = select(literal(1).label("i")).cte("numbers", recursive=True)
    return numbers.union_all(select(numbers.c.i + 1).where(numbers.c.i < count))


def _padded(number, width: int, sqlite: bool):
    if sqlite:
        return func.printf(f"%0{width}d", number)
    return func.lpad(cast(number, String), width, "0")


def _pick(number, words: tuple[str, ...]):
    return case({index: word for index, word in enumerate(words)},
                value=number % len(words))


def _family_name(number):
    """customer_name()'s family name, in SQL."""
    count = len(SYLLABLES)
    n = number * 7919 % count ** 3
    name = _pick(n // (count * count), SYLLABLES).concat(_pick(n // count, SYLLABLES)).concat(
        _pick(n, SYLLABLES))
    return func.upper(func.substr(name, 1, 1)).concat(func.substr(name, 2))


def _insert_generated(connection, table, values: dict, count: int, sqlite: bool) -> None:
    """INSERT ... SELECT of `count` rows made by the database itself (a few seconds a million,
    where rows made in Python take minutes on a busy machine): `values` maps a column to an
    expression of the row number `i`; every other column gets its default."""
    numbers = _series(count, sqlite)
    i = numbers.c.i
    columns, expressions = [], []
    for column in table.columns:
        columns.append(column.name)
        if column.name in values:
            value = values[column.name](i)
            expressions.append(value if isinstance(value, ClauseElement)
                               else literal(value, type_=column.type))
            continue
        default = column.default.arg if column.default is not None else None
        if callable(default):
            default = START if column.name.endswith("_at") else default(None)
        elif isinstance(default, enum.Enum):
            default = default.value
        if default is None and not column.nullable:
            default = ""
        expressions.append(literal(default, type_=column.type) if default is not None
                           else null())
    connection.execute(insert(table).from_select(columns, select(*expressions)))


def build(db, Customer, Order) -> None:
    """The customers and orders, made by the database, with the indexes made after the rows
    (and, on SQLite, the trigram search table filled once at the end)."""
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    indexes = [index for index in Order.__table__.indexes
               if engine.dialect.name in index.info.get("dialects", (engine.dialect.name,))]
    with engine.begin() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA journal_mode=OFF")
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            trigger = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'order_search_insert'").scalar()
            connection.exec_driver_sql("DROP TRIGGER order_search_insert")
        else:
            # The migrations' own index of the words' suffixes (not in the models): its
            # definition kept, dropped, and made again after the rows, as the others.
            hand_made = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders' "
                "AND indexname = 'ix_orders_search_words'").all()
            for name, _definition in hand_made:
                connection.exec_driver_sql(f"DROP INDEX {name}")
        for index in indexes:
            index.drop(connection)
        started = time.perf_counter()

        def email(i):
            return literal("c").concat(_padded(i, 7, sqlite)).concat("@bench.test")

        _insert_generated(connection, Customer.__table__, {
            "id": lambda i: i, "email": email, "email_key": email,
            "first_name": lambda i: _pick(i, FIRST_NAMES), "last_name": _family_name,
            "billing_country": lambda i: case((i % 4 == 1, "DE"), else_="PL"),
        }, CUSTOMERS, sqlite)
        print(f"  {CUSTOMERS:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()

        def guest(i):
            return i * 37 % 100 < 15

        def customer(i):
            return i * 48271 % CUSTOMERS + 1

        def order_email(i):
            return case((guest(i), literal("g").concat(cast(i, String)).concat("@guest.test")),
                        else_=email(customer(i)))

        def name(i):
            return case((guest(i), "Gast Gość"), else_=_pick(customer(i), FIRST_NAMES).concat(
                " ").concat(_family_name(customer(i))))

        def search_text(i):
            folded = case((guest(i), "gast gosc"), else_=func.lower(
                _pick(customer(i), FOLDED_FIRST_NAMES).concat(" ").concat(
                    _family_name(customer(i)))))
            return folded.concat(" ").concat(order_email(i))

        if sqlite:
            def placed_at(i):
                return func.strftime("%Y-%m-%d %H:%M:%S", START.strftime("%Y-%m-%d"),
                                     literal("+").concat(cast(i * SECONDS_APART, String))
                                     .concat(" seconds")).concat(".000000")
        else:
            def placed_at(i):
                return literal(START, type_=Order.placed_at.type) + func.make_interval(
                    0, 0, 0, 0, 0, 0, i * SECONDS_APART)

        _insert_generated(connection, Order.__table__, {
            "id": lambda i: i, "number": lambda i: literal("B").concat(_padded(i, 9, sqlite)),
            "customer_id": lambda i: case((guest(i), null()), else_=customer(i)),
            "placed_at": placed_at,
            "status": lambda i: _pick(i * 13, STATUSES), "payment_status": lambda i: "paid",
            "currency": lambda i: case((i % 3 == 0, "PLN"), else_="EUR"),
            "subtotal": lambda i: (i * 7 % 39500 + 500) / 100.0,
            "total": lambda i: (i * 7 % 39500 + 500) / 100.0,
            "shipping": lambda i: 0, "email": order_email, "email_key": order_email,
            "name": name, "search_text": search_text, "country": lambda i: "DE",
            "billing_address": lambda i: {}, "shipping_address": lambda i: {},
        }, ORDERS, sqlite)
        print(f"  {ORDERS:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        for index in indexes:
            index.create(connection)
        if not sqlite:
            for _name, definition in hand_made:
                connection.exec_driver_sql(definition)
        if sqlite:
            connection.exec_driver_sql(
                "INSERT INTO order_search (order_search) VALUES ('rebuild')")
            connection.exec_driver_sql(trigger)
        print(f"  indexes in {time.perf_counter() - started:.0f} s", flush=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
