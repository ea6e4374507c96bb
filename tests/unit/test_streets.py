"""Address lines split into street, house number and extension."""

import pytest

from shopadmin.imports.streets import split_street


@pytest.mark.parametrize(("line", "split"), [
    ("Hauptstraße 12", ("Hauptstraße", "12", "")),
    ("Hauptstr. 12 b", ("Hauptstr.", "12", "b")),
    ("Straße des 17. Juni 135", ("Straße des 17. Juni", "135", "")),
    ("ul. Długa 5/7", ("ul. Długa", "5/7", "")),
    ("Am Markt 3-5", ("Am Markt", "3-5", "")),
    ("Kerkstraat 7A", ("Kerkstraat", "7", "A")),
    ("12 rue de la Paix", ("rue de la Paix", "12", "")),
    ("12bis rue Victor Hugo", ("rue Victor Hugo", "12", "bis")),
    ("221B Baker Street", ("Baker Street", "221", "B")),
    ("Calle Mayor, 5", ("Calle Mayor", "5", "")),
    ("  Lange   Straße  4 ", ("Lange Straße", "4", "")),
])
def test_a_line_with_a_house_number_splits(line, split):
    assert split_street(line) == split


@pytest.mark.parametrize("line", ["Postfach", "Hauptstraße", "1234", "12 34", ""])
def test_a_line_without_one_does_not(line):
    assert split_street(line) is None
