"""Stand-in (tests only, see __init__): the minimal contract of transfer-map's headings.py."""
import re

from shopadmin.customers.fields import EDITABLE
from shopadmin.text import fold

TARGETS = {f.name: f.label for f in EDITABLE}


def heading_key(text):
    return re.sub(r"[^a-z0-9]", "", fold(text or ""))


def suggest_mapping(headings):
    keys = {}
    for f in EDITABLE:
        keys.setdefault(heading_key(str(f.label)), f.name)
    for f in EDITABLE:
        keys[heading_key(f.heading)] = f.name
    keys.update({"imie": "first_name", "nazwisko": "last_name", "email": "email",
                 "telefon": "phone", "miasto": "city"})
    return [keys.get(heading_key(h)) for h in headings]
