"""Column headings → customer fields: ours, their translations, and other platforms' exports.

Matching ignores case, spaces, punctuation, accents and parenthesised hints ("Email *",
"Newsletter (0/1)"). The platform headings come from ../shared/FORMATS.md; translated ones from
the field labels in each catalogue, so a worksheet exported with German headings maps back.
No Flask here: the interface languages whose labels are read are an argument (by default all of
them).
"""

import re
from functools import lru_cache

from ..config import LANGUAGES
from ..customers.fields import EDITABLE, SECTION_LABELS, Section
from ..text import fold
from ..translation import lazy_gettext as _l
from ..translation import speaking

# Targets besides the fields themselves, turned into field values by rows.py.
EXTRA_TARGETS = {
    "full_name": _l("Full name (split into first and last name)"),
    "title_code": _l("Title code (1 = Mr, 2 = Ms)"),
}
TARGETS = {**{f.name: f.distinct_label for f in EDITABLE}, **EXTRA_TARGETS}
# Columns never imported, whatever the mapping says: secrets of the old platform.
SENSITIVE = {"password", "passwordhash", "rptoken", "rptokencreatedat", "userpass"}

# Other platforms' headings (../shared/FORMATS.md): a field's are its `aliases` in the field
# table (customers/fields.py); these are the extra targets'.
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("Name", "Full name", "billing_full_name", "Vollständiger Name", "Nom complet",
                  "Imię i nazwisko"),
    "title_code": ("Titles ID", "Title ID", "id_gender"),
}
PLATFORM_ALIASES: dict[str, tuple[str, ...]] = {
    **{f.name: f.aliases for f in EDITABLE if f.aliases}, **EXTRA_ALIASES}
# Shipping columns are the billing ones behind these words (Lightspeed "Shipping City",
# WooCommerce "shipping_city").
SHIPPING_WORDS = ("Shipping", "Delivery", "Liefer", "Lieferadresse", "Livraison", "Dostawa")
SHIPPING_OF = {"billing_" + f.name.removeprefix("shipping_"): f.name for f in EDITABLE
               if f.name.startswith("shipping_") and f.name != "shipping_differs"}
SHIPPING_OF["company_name"] = "shipping_company"
# Columns that name the old platform's records, not the customer: left unmapped on purpose.
IGNORED = ("ID", "Registered", "Created", "Modified", "created_at", "updated_at",
           "date_registered", "Registration date", "Total Spent", "Total Orders", "order_count",
           "total_spent", "_website", "_store", "website_id", "store_id", "created_in",
           "Tax Exempt", "Accepts SMS Marketing", "Default group ID", "Active")

_HINT = re.compile(r"\(.*?\)|\*")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def heading_key(text: str | None) -> str:
    """"Email *", "E-Mail" and "e_mail" all read "email"."""
    return _NON_ALNUM.sub("", fold(_HINT.sub("", text or "")))


@lru_cache(maxsize=8)
def _alias_table(languages: tuple[str, ...]) -> dict[str, str | None]:
    table: dict[str, str | None] = {}

    def add(heading: str, target: str | None) -> None:
        table.setdefault(heading_key(heading), target)

    for name in IGNORED:
        add(name, None)
    for f in EDITABLE:
        add(f.heading, f.name)
    for target, aliases in PLATFORM_ALIASES.items():
        for alias in aliases:
            add(alias, target)
    for language in languages:
        with speaking(language):
            shipping = str(SECTION_LABELS[Section.SHIPPING])
            for f in EDITABLE:
                if f.section == Section.SHIPPING and f.name != "shipping_differs":
                    add(f"{shipping} {f.label}", f.name)
                else:
                    add(str(f.label), f.name)
    for billing, shipping in SHIPPING_OF.items():
        for alias in PLATFORM_ALIASES.get(billing, ()):
            for word in SHIPPING_WORDS:
                add(f"{word} {alias}", shipping)
    return table


def suggest_mapping(headings: list[str],
                    languages: tuple[str, ...] = LANGUAGES) -> list[str | None]:
    """A target per column, or None to ignore it. When two columns map to the same field, the
    first keeps it and the later ones are ignored (the review page shows this). Headings are
    read in our own words in any of `languages`."""
    table = _alias_table(tuple(languages))
    mapping: list[str | None] = []
    taken: set[str] = set()
    for heading in headings:
        key = heading_key(heading)
        target = None if key in SENSITIVE else table.get(key)
        if target in taken:
            target = None
        if target:
            taken.add(target)
        mapping.append(target)
    return mapping


def is_sensitive(heading: str) -> bool:
    return heading_key(heading) in SENSITIVE


def looks_like_headings(cells: list[str], languages: tuple[str, ...] = LANGUAGES) -> bool:
    """True when a first row reads as headings (in any of `languages`) rather than as a
    customer's data."""
    table = _alias_table(tuple(languages))
    filled = [cell for cell in cells if cell.strip()]
    if any(heading_key(cell) in table or heading_key(cell) in SENSITIVE for cell in filled):
        return True
    data_like = sum(1 for cell in filled
                    if "@" in cell or re.fullmatch(r"[\d\s+\-/.:]+", cell.strip()))
    return data_like == 0
