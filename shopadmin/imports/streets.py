"""An address line given whole ("Hauptstraße 12", "12 rue de la Paix") split into the street and
the house number, as the register keeps them apart. Plain functions, no Flask."""

import re

# The street first, then the number (German, Polish, Dutch, ...): "Hauptstraße 12",
# "Hauptstr. 12 b", "ul. Długa 5/7", "Am Markt 3-5", "Kerkstraat 7A".
_NUMBER_LAST = re.compile(
    r"^(?P<street>.*?\D)[\s,]+(?P<number>\d+)\s?(?P<rest>[a-zA-Z]{1,2}\b|[-/]\s?\d+\s?[a-zA-Z]?)?$")
# The number first (French, English): "12 rue de la Paix", "12bis rue Victor Hugo",
# "221B Baker Street".
_NUMBER_FIRST = re.compile(
    r"^(?P<number>\d+)\s?(?P<rest>bis|ter|quater|[a-zA-Z](?=\s))?[\s,]+(?P<street>\D.*)$",
    re.IGNORECASE)


def split_street(line: str) -> tuple[str, str, str] | None:
    """(street, house number, extension) of an address line, or None when the line holds no
    house number at its start or end (a P.O. box, a street without a number, ...).

    A letter after the number is the extension ("12a": "12" and "a"); a second number stays
    with the house number ("5/7", "3-5"), as the two together name the house.
    """
    text = " ".join(line.split())
    match = _NUMBER_LAST.match(text) or _NUMBER_FIRST.match(text)
    if match is None:
        return None
    street = match["street"].strip(" ,")
    if not any(char.isalpha() for char in street):
        return None
    number, rest = match["number"], (match["rest"] or "").strip()
    if rest and not rest[0].isalpha():  # "5/7", "3-5": one house number
        return street, number + rest.replace(" ", ""), ""
    return street, number, rest
