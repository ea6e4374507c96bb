"""Worksheets as the platforms shops move from export them (../shared/FORMATS.md), generated.

Each builder returns the file's bytes and what a correct import must make of it, so that a test
can count the customers in against the customers in the register.
"""

import csv
import io
import random

LIGHTSPEED = [
    "Internal ID", "Registered", "Language", "Firstname", "LastnamePreposition", "Lastname",
    "E-Mail", "Phone", "Mobile", "Customer type", "Company", "Coc number", "Vat number", "Attn",
    "Streetname", "Address 2", "Number", "Extension", "Zipcode", "City", "Region", "Country",
    "Shipping Attn", "Shipping company", "Shipping Streetname", "Shipping Address 2",
    "Shipping Number", "Shipping Extension", "Shipping Zipcode", "Shipping City",
    "Shipping Region", "Shipping Country", "Groups", "Date of birth", "Gender", "Confirmed",
]
PLACES = {
    "NL": [("Amsterdam", "1012 AB"), ("Utrecht", "3511 AA"), ("Rotterdam", "3011 AD")],
    "BE": [("Antwerpen", "2000"), ("Gent", "9000"), ("Liège", "4000")],
    "DE": [("Berlin", "10115"), ("Köln", "50667"), ("Dresden", "01067")],
    "FR": [("Paris", "75001"), ("Lyon", "69001"), ("Lille", "59000")],
    "AT": [("Wien", "1010"), ("Graz", "8010")],
    "PL": [("Łódź", "90-001"), ("Kraków", "30-001")],
}
FIRST = ["Anna", "Bram", "Daan", "Émilie", "Jürgen", "Sanne", "Lotte", "Łukasz", "Zoë", "Noor"]
LAST = [("van", "Dijk"), ("de", "Vries"), ("", "Peeters"), ("", "Müller"), ("", "Lefèvre"),
        ("van der", "Berg"), ("", "Nowak"), ("", "Janssens")]


def _csv(headings: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def lightspeed_benelux(count: int = 200, seed: int = 7) -> tuple[bytes, dict]:
    """A Lightspeed eCom export of a Benelux shop: languages nl, nl-BE, en-gb, de, fr; some
    rows with values that cannot be read (they must go in with a warning), and a few rows
    without a valid e-mail address (the only ones to be rejected)."""
    rng = random.Random(seed)
    rows, expected = [], {"emails": set(), "languages": {}, "rejected": 0, "warned": 0}
    for index in range(count):
        country = rng.choice(["NL", "NL", "BE", "BE", "DE", "FR"])
        language = {"NL": rng.choice(["nl", "nl"]), "BE": rng.choice(["nl-BE", "fr", "nl"]),
                    "DE": "de", "FR": "fr"}[country]
        if index % 17 == 0:
            language = "en-gb"
        city, postcode = rng.choice(PLACES[country])
        prefix, last = rng.choice(LAST)
        email = f"klant{index}@winkel.test"
        warn = False
        birth = f"{rng.randint(1950, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        if index % 10 == 3:
            birth, warn = "31-02-1980", True  # no such day: left empty, with a warning
        vat = ""
        if index % 25 == 5:
            vat, warn = "NL000000000B00", True  # fails its check digits: kept as typed
        if index % 50 == 11:
            email = "geen-adres"  # no customer can be stored from this row
        company = "Bakkerij Jansen" if index % 9 == 0 else ""
        group = rng.choice(["", "Wholesale", ""])
        warn = warn or bool(group)  # a group that does not exist: imported without it
        rows.append([
            str(1000 + index), "2021-03-04 10:00:00", language, rng.choice(FIRST), prefix,
            last, email, "+31 20 123 4567", "", "Company" if company else "Private", company,
            "", vat, "", "Keizersgracht", "", str(rng.randint(1, 300)), rng.choice(["", "A"]),
            postcode, city, "", country, "", "", "", "", "", "", "", "", "", "",
            group, birth, rng.choice(["male", "female", ""]),
            rng.choice(["Yes", "No"]),
        ])
        if email == "geen-adres":
            expected["rejected"] += 1
            continue
        expected["emails"].add(email)
        code = language.split("-")[0]
        expected["languages"][code] = expected["languages"].get(code, 0) + 1
        expected["warned"] += warn
    return _csv(LIGHTSPEED, rows), expected


def german_shop_without_language(count: int = 30) -> bytes:
    """A German shop's own file: semicolons, German headings, no language column."""
    rows = [[f"Kunde{index}", "Schmidt", f"kunde{index}@laden.test", "Hauptstraße 1",
             "01067", "Dresden", "Deutschland"] for index in range(count)]
    rows.append(["Marie", "Dupont", "marie@laden.test", "Rue de Rivoli 1", "75001", "Paris",
                 "Frankreich"])
    return _csv(["Vorname", "Nachname", "E-Mail", "Straße", "PLZ", "Ort", "Land"], rows, ";")


SHOPIFY = ["First Name", "Last Name", "Email", "Accepts Email Marketing",
           "Default Address Company", "Default Address Address1", "Default Address Address2",
           "Default Address City", "Default Address Province Code",
           "Default Address Country Code", "Default Address Zip", "Default Address Phone",
           "Phone", "Accepts SMS Marketing", "Tags", "Note", "Tax Exempt"]


def shopify_with_tags() -> bytes:
    rows = [
        ["Ann", "Lee", "ann@store.test", "yes", "", "1 Main St", "", "Toronto", "ON", "CA",
         "'01234", "", "'+1 416 555 0100", "no", "VIP, Wholesale", "Met at the fair", "no"],
        ["Bob", "Ray", "bob@store.test", "no", "", "2 Main St", "", "Leeds", "", "GB",
         "LS1 1AA", "", "", "no", "Newsletter 2024", "", "no"],
        ["Cy", "Ode", "cy@store.test", "no", "", "", "", "", "", "", "", "", "", "no", "", "",
         "no"],
    ]
    return _csv(SHOPIFY, rows)


MAGENTO = ["email", "_website", "_store", "confirmation", "created_at", "created_in",
           "disable_auto_group_change", "dob", "firstname", "gender", "group_id", "lastname",
           "middlename", "password_hash", "prefix", "rp_token", "rp_token_created_at",
           "store_id", "suffix", "taxvat", "updated_at", "website_id", "password",
           "_address_city", "_address_company", "_address_country_id", "_address_fax",
           "_address_firstname", "_address_lastname", "_address_middlename",
           "_address_postcode", "_address_prefix", "_address_region", "_address_street",
           "_address_suffix", "_address_telephone", "_address_vat_id",
           "_address_default_billing_", "_address_default_shipping_"]


def magento_with_address_rows() -> bytes:
    """Customers and addresses in one file: Jana has a second row, her default shipping
    address; Karl has a third address that is neither default (a warning, not lost)."""
    def customer(email, first, last, city, postcode, street, billing="1", shipping="1"):
        row = dict.fromkeys(MAGENTO, "")
        row.update({"email": email, "_website": "base", "_store": "default",
                    "created_at": "2015-10-30 12:49:47", "dob": "1980-04-19 00:00:00",
                    "firstname": first, "lastname": last, "gender": "Female",
                    "group_id": "1", "password_hash": "$2y$10$secret", "website_id": "1",
                    "_address_city": city, "_address_country_id": "DE",
                    "_address_firstname": first, "_address_lastname": last,
                    "_address_postcode": postcode, "_address_street": street,
                    "_address_telephone": "030 1234", "_address_default_billing_": billing,
                    "_address_default_shipping_": shipping})
        return row

    def address(city, postcode, street, billing, shipping):
        row = dict.fromkeys(MAGENTO, "")
        row.update({"_address_city": city, "_address_country_id": "DE",
                    "_address_postcode": postcode, "_address_street": street,
                    "_address_default_billing_": billing, "_address_default_shipping_": shipping})
        return row

    rows = [
        customer("jana@mage.test", "Jana", "Nowak", "Berlin", "10115", "Invalidenstr. 1",
                 shipping="0"),
        address("Potsdam", "14467", "Am Kanal 2\nHinterhaus", "0", "1"),
        customer("karl@mage.test", "Karl", "Ernst", "Köln", "50667", "Domkloster 4"),
        address("Bonn", "53111", "Markt 1", "0", "0"),
    ]
    return _csv(MAGENTO, [[row[h] for h in MAGENTO] for row in rows])


PRESTASHOP = ["Customer ID", "Active (0/1)", "Titles ID (Mr = 1, Ms = 2, else 0)", "Email *",
              "Password *", "Birthday (yyyy-mm-dd)", "Last Name *", "First Name *",
              "Newsletter (0/1)", "Opt-in (0/1)", "Registration date (yyyy-mm-dd)",
              "Groups (x,y,z...)", "Default group ID"]


def prestashop_latin1() -> bytes:
    """PrestaShop's customers file: `;`, ISO-8859-1, a trailing `;` on the data rows."""
    rows = [
        ["1", "1", "2", "hélène@boutique.test", "secret", "1985-02-03", "Lefèvre", "Hélène",
         "1", "0", "2019-05-06", "Client,VIP", "3"],
        ["2", "1", "1", "jerome@boutique.test", "secret", "0000-00-00", "Dupré", "Jérôme",
         "0", "0", "2019-05-07", "Client", "3"],
    ]
    lines = [";".join(PRESTASHOP)] + [";".join(row) + ";" for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("iso-8859-1")


WOOCOMMERCE = ["customer_id", "first_name", "last_name", "user_login", "email", "user_pass",
               "date_registered", "billing_first_name", "billing_last_name", "billing_full_name",
               "billing_company", "billing_email", "billing_phone", "billing_address_1",
               "billing_address_2", "billing_postcode", "billing_city", "billing_state",
               "billing_state_code", "billing_country", "shipping_first_name",
               "shipping_last_name", "shipping_full_name", "shipping_company",
               "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
               "shipping_state", "shipping_state_code", "shipping_country", "total_spent",
               "order_count"]


def woocommerce() -> bytes:
    def row(n, first, last, email, company, city, country, ship_city=""):
        values = dict.fromkeys(WOOCOMMERCE, "")
        values.update({"customer_id": str(n), "first_name": first, "last_name": last,
                       "user_login": first.lower(), "email": email, "user_pass": "$P$Bhash",
                       "date_registered": "8/16/2016 11:25", "billing_first_name": first,
                       "billing_last_name": last, "billing_full_name": f"{first} {last}",
                       "billing_company": company, "billing_email": email,
                       "billing_phone": "'=123", "billing_address_1": "Main St 1",
                       "billing_postcode": "00-950", "billing_city": city,
                       "billing_country": country, "shipping_city": ship_city,
                       "shipping_country": country if ship_city else "",
                       "total_spent": "120.00", "order_count": "3"})
        return [values[h] for h in WOOCOMMERCE]

    return _csv(WOOCOMMERCE, [
        row(101, "Zofia", "Nowak", "zofia@sklep.test", "", "Warszawa", "PL", "Kraków"),
        row(102, "Tom", "Bray", "tom@shop.test", "Bray Ltd", "Leeds", "GB"),
    ])


def abicart_without_headings() -> bytes:
    """Abicart's fixed column order without a heading row."""
    rows = [["Anna", "Berg", "anna@butik.test", "", "", "Storgatan 1", "111 22", "Stockholm",
             "Sweden", "08-123 45", "", "Retail", "anna"],
            ["Erik", "Lund", "erik@butik.test", "Lund AB", "556677-8899", "Kungsgatan 2",
             "411 19", "Göteborg", "Sweden", "", "031-11 22", "", "erik"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
