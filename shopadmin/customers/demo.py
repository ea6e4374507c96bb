"""Realistic demo customers for trying the back office and for the benchmarks.

Customers of Germany, Austria, France, Poland and the United Kingdom with the letters of their
languages, companies with valid VAT numbers, groups and varied flags, written with Core
statements in batches together with their search terms.
"""

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from stdnum import luhn
from stdnum.iso7064 import mod_11_10

from ..bulk import execute_many
from ..database import utcnow
from ..extensions import db
from ..parallel import produced_in_child
from ..settings.services import get_settings
from ..text import email_key
from .choices import CustomerType, Gender
from .models import (
    Customer,
    CustomerGroup,
    Origin,
    customer_group_members,
)
from .numbers import take_numbers
from .search import index_new
from .terms import search_terms, terms_text

BATCH = 5000
PARALLEL_LOAD_MIN = 50_000
GROUP_NAMES = ("Stammkunden", "Grossistes", "Hurtownicy", "VIP", "Newsletter 2026", "B2B")

PEOPLE = {
    "DE": (
        ("Jürgen", "Käthe", "Jörg", "Sören", "Anna", "Lukas", "Mia", "Björn", "Grete",
         "Maximilian"),
        ("Müller", "Schröder", "Weiß", "Groß", "Hoffmann", "Köhler", "Schäfer", "Krüger",
         "Meier", "Böhm"),
        (("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg"),
         ("01067", "Dresden"), ("04109", "Leipzig")),
        ("Hauptstraße", "Gartenweg", "Lindenallee", "Schloßstraße", "Mühlenweg"),
        ("GmbH", "KG", "AG"), "de", "+49",
    ),
    "AT": (
        ("Österreicher", "Lena", "Jakob", "Sophie", "Florian"),
        ("Gruber", "Huber", "Wögerer", "Pöschl", "Strauß"),
        (("1010", "Wien"), ("5020", "Salzburg"), ("8010", "Graz")),
        ("Ringstraße", "Kärntner Straße", "Getreidegasse"),
        ("GmbH", "OG"), "de", "+43",
    ),
    "FR": (
        ("Zoé", "Léa", "Hélène", "François", "Jérôme", "Chloé", "Gaëlle", "Noël", "Benoît",
         "Amélie"),
        ("Dupont", "Lefèvre", "Girard", "Bézier", "Moreau", "Fontaine", "Mercier", "Rivière",
         "Lemaître", "Caron"),
        (("75001", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"),
         ("59000", "Lille"), ("06000", "Nice")),
        ("rue de la Paix", "avenue des Champs-Élysées", "boulevard Saint-Michel", "rue Émile Zola"),
        ("SARL", "SAS", "SA"), "fr", "+33",
    ),
    "PL": (
        ("Łukasz", "Małgorzata", "Paweł", "Zofia", "Wojciech", "Agnieszka", "Michał", "Żaneta",
         "Jędrzej", "Katarzyna"),
        ("Kowalski", "Wiśniewska", "Wójcik", "Łęcka", "Zieliński", "Szymańska", "Dąbrowski",
         "Żółkiewska", "Kamiński", "Lewandowska"),
        (("00-950", "Warszawa"), ("90-001", "Łódź"), ("30-001", "Kraków"), ("80-001", "Gdańsk"),
         ("50-001", "Wrocław"), ("60-001", "Poznań")),
        ("ul. Marszałkowska", "ul. Piotrkowska", "ul. Długa", "al. Jerozolimskie"),
        ("Sp. z o.o.", "S.A."), "pl", "+48",
    ),
    "GB": (
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Emily"),
        ("Smith", "Jones", "O'Brien", "Taylor", "Brown", "Williams"),
        (("SW1A 1AA", "London"), ("M1 1AE", "Manchester"), ("EH1 1YZ", "Edinburgh")),
        ("High Street", "Church Lane", "Victoria Road"),
        ("Ltd", "PLC"), "en", "+44",
    ),
}
# Family names are built from roots and endings, as they are in these languages, so that a
# million customers carry hundreds of names per country rather than ten.
NAME_PARTS = {
    "DE": (("Müll", "Schröd", "Weiß", "Hoff", "Köhl", "Schäf", "Krüg", "Mei", "Böh", "Wag",
            "Beck", "Schulz", "Fisch", "Zimmer", "Kraus", "Hartm", "Lang", "Wern", "Schmi",
            "Brau", "Groß", "Jäg", "Koch", "Bauer", "Wolf"),
           ("er", "mann", "ler", "ner", "berg", "hoff")),
    "AT": (("Grub", "Hub", "Wöger", "Pöschl", "Strauß", "Hofer", "Eder", "Moser", "Leitn",
            "Pichl"), ("er", "bauer", "mayr")),
    "FR": (("Dup", "Lef", "Gir", "Béz", "Mor", "Font", "Merc", "Riv", "Lemaîtr", "Car", "Laf",
            "Rouss", "Bonn", "Chev", "Garn", "Faur", "Blanch", "Guér", "Math", "Gauth"),
           ("ont", "èvre", "ard", "ier", "eau", "aine", "et", "in", "and", "y")),
    "PL": (("Kowal", "Wiśniew", "Wójc", "Łęc", "Zieliń", "Szymań", "Dąbrow", "Żółkiew", "Kamiń",
            "Lewandow", "Nowak", "Mazur", "Krawcz", "Grabow", "Pawłow", "Michal", "Jankow",
            "Wojciechow", "Kaczmar", "Zając"), ("ski", "ska", "czyk", "ak", "ewicz")),
    "GB": (("Smith", "Jones", "O'Brien", "Taylor", "Brown", "Williams", "Walk", "Wright",
            "Robin", "Thomp"), ("", "son", "er", "s")),
}
WEIGHTS = (("DE", 30), ("FR", 25), ("PL", 25), ("AT", 8), ("GB", 12))
COMPANY_WORDS = ("Bäckerei", "Atelier", "Hurtownia", "Handel", "Logistik", "Boulangerie",
                 "Księgarnia", "Trading", "Weinkontor", "Épicerie", "Drukarnia", "Design",
                 "Tischlerei", "Fromagerie", "Piekarnia", "Apotheke", "Pharmacie", "Apteka",
                 "Autohaus", "Garage", "Warsztat", "Blumen", "Fleuriste", "Kwiaciarnia",
                 "Metallbau", "Menuiserie", "Stolarnia", "Reisebüro", "Voyages", "Podróże",
                 "Elektro", "Électricité", "Elektryka", "Optik", "Opticien", "Optyk",
                 "Consulting", "Conseil", "Doradztwo", "Software")


def vat_number(country: str, rng: random.Random) -> str:
    """A VAT number with valid check digits for DE, AT-less countries FR and PL."""
    if country == "DE":
        base = str(rng.randint(10_000_000, 99_999_999))
        return f"DE{base}{mod_11_10.calc_check_digit(base)}"
    if country == "FR":
        base = str(rng.randint(10_000_000, 99_999_999))
        siren = base + luhn.calc_check_digit(base)
        return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    if country == "PL":
        while True:
            digits = [rng.randint(0, 9) for _ in range(9)]
            check = sum(w * d for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), digits, strict=True))
            if check % 11 != 10:
                return "PL" + "".join(map(str, digits)) + str(check % 11)
    return ""


def _vary_postcode(base: str, rng: random.Random) -> str:
    """A postcode of the same city: the last two digits vary."""
    digits = [i for i, ch in enumerate(base) if ch.isdigit()]
    if len(digits) < 4:
        return base
    number = f"{rng.randint(0, 99):02d}"
    chars = list(base)
    chars[digits[-2]], chars[digits[-1]] = number[0], number[1]
    return "".join(chars)


def _customer(index: int, rng: random.Random, now) -> dict:
    country = rng.choices([c for c, _ in WEIGHTS], [w for _, w in WEIGHTS])[0]
    firsts, lasts, places, streets, forms, language, prefix = PEOPLE[country]
    roots, endings = NAME_PARTS[country]
    first = rng.choice(firsts)
    last = rng.choice(lasts) if rng.random() < 0.2 else rng.choice(roots) + rng.choice(endings)
    base, city = rng.choice(places)
    postcode = _vary_postcode(base, rng)
    business = rng.random() < 0.2
    company = f"{rng.choice(COMPANY_WORDS)} {last} {rng.choice(forms)}" if business else ""
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    email = f"{local}.{index}@example.{country.lower()}"
    created = now - timedelta(days=rng.randint(0, 2000), seconds=rng.randint(0, 86400))
    return {
        "customer_number": None,  # the store's series gives it as the batch is written
        "created_at": created,
        # Modified after it was created, never after now.
        "updated_at": min(created + timedelta(days=rng.randint(0, 30)), now),
        "version": 1,
        "first_name": first,
        "initials": first[0] + ".",
        "last_name_prefix": "",
        "last_name": last,
        "email": email,
        "email_key": email_key(email),
        "username": "",
        "approved": rng.random() > 0.1,
        "confirmed": rng.random() > 0.3,
        "phone": f"{prefix} {rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        "mobile": f"{prefix} {rng.randint(150, 179)} {rng.randint(1000000, 9999999)}"
        if rng.random() < 0.6 else "",
        "language": language,
        "gender": rng.choice((Gender.FEMALE, Gender.MALE, None)),
        "birth_date": date(1940, 1, 1) + timedelta(days=rng.randint(0, 25000))
        if rng.random() < 0.5 else None,
        "newsletter": rng.random() < 0.4,
        "customer_type": CustomerType.BUSINESS if business else CustomerType.PRIVATE,
        "company_name": company,
        "company_id_number": "",
        "coc_number": "",
        "vat_number": vat_number(country, rng) if business else "",
        "billing_country": country,
        "billing_attention": "",
        "billing_address1": rng.choice(streets),
        "billing_house_number": str(rng.randint(1, 200)),
        "billing_house_number_ext": rng.choice(("", "", "", "a", "b")),
        "billing_address2": "",
        "billing_postcode": postcode,
        "billing_city": city,
        "billing_region": "",
        "shipping_differs": False,
        "shipping_company": "", "shipping_country": None, "shipping_attention": "",
        "shipping_address1": "", "shipping_house_number": "", "shipping_house_number_ext": "",
        "shipping_address2": "", "shipping_postcode": "", "shipping_city": "",
        "shipping_region": "",
        "notes": "",
        "origin": Origin.IMPORT,
    }


def ensure_groups() -> list[int]:
    ids = []
    for name in GROUP_NAMES:
        group = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))
        if group is None:
            group = CustomerGroup(name=name, description="")
            db.session.add(group)
            db.session.flush()
        ids.append(group.id)
    return ids


def _batches(count: int, start: int, seed: int, group_ids: list[int]) -> Iterator[tuple]:
    """(customers, their search terms, their group memberships), BATCH customers at a time."""
    rng = random.Random(seed)
    now = utcnow()
    for offset in range(0, count, BATCH):
        rows = [_customer(start + offset + i, rng, now)
                for i in range(min(BATCH, count - offset))]
        for i, row in enumerate(rows):
            row["id"] = start + offset + i
        terms = [(row["id"], terms_text(row)) for row in rows]
        members = [{"customer_id": row["id"], "group_id": rng.choice(group_ids)}
                   for row in rows if rng.random() < 0.3]
        yield rows, terms, members


def generate_customers(
    count: int, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> int:
    """Add `count` demo customers (committing batch by batch); returns how many were added.

    A large load makes the customers and their search terms in a second process while this one
    writes them (two cores busy), and sends them to the driver in one executemany per batch
    (shopadmin.bulk).
    """
    group_ids = ensure_groups()
    db.session.commit()
    start = (db.session.scalar(select(func.max(Customer.id))) or 0) + 1
    statement = insert(Customer.__table__)
    large = count >= PARALLEL_LOAD_MIN
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # Random inserts into the customer indexes thrash SQLite's default 2 MB page cache once
        # the file outgrows it (this connection only).
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
    made = _batches(count, start, seed, group_ids)
    for rows, terms, members in (produced_in_child(lambda: made) if large else made):
        terms = _numbered(rows, terms)
        execute_many(db.session.connection(), statement, rows, cache_key="demo-customers")
        index_new(db.session.connection(), terms)
        execute_many(db.session.connection(), insert(customer_group_members), members,
                     cache_key="demo-members")
        db.session.commit()
        if progress:
            progress(len(rows))
    sync_id_sequence()
    db.session.commit()
    return count


def _numbered(rows: list[dict], terms: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Give the batch's customers the next numbers of the store's series, and add them to
    their search terms."""
    numbered = []
    numbers = take_numbers(db.session, get_settings(), len(rows))
    for row, number, (customer_id, text) in zip(rows, numbers, terms, strict=True):
        row["customer_number"] = number
        numbered.append((customer_id, " ".join(
            set(text.split()) | search_terms({"customer_number": number}))))
    return numbered


def sync_id_sequence() -> None:
    """On PostgreSQL, move the customers' id sequence past the ids given here explicitly, so
    that the next customer made (a form, an import, the API) gets a free id. SQLite takes the
    next id from the table itself."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('customers', 'id'), "
            "(SELECT COALESCE(MAX(id), 0) + 1 FROM customers), false)")
