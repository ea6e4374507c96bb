"""Dates, times, numbers and country lists as each interface language writes them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from shopadmin.countries import collation_key, country_choices, store_countries
from shopadmin.formats import (
    format_day,
    format_mail_moment,
    format_moment,
    format_money,
    format_number,
    format_percentage,
    parse_day,
)
from shopadmin.settings.services import default_export_format

# 21:11 UTC is 22:11 in the store's time zone (Europe/Berlin, the default).
EVENING = datetime(2026, 11, 28, 21, 11, 42, tzinfo=UTC)
# 23:30 UTC on the 30th is already 1 December in Berlin.
LATE = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(("language", "day", "moment"), [
    ("de", "28.11.2026", "28.11.2026, 22:11"),
    ("fr", "28/11/2026", "28/11/2026 22:11"),
    ("pl", "28.11.2026", "28.11.2026, 22:11"),
    ("en", "28/11/2026", "28/11/2026, 22:11"),
])
def test_one_date_and_one_moment_style_per_language(app, language, day, moment):
    with app.test_request_context():
        assert format_day(EVENING, language) == day
        assert format_day(date(2026, 11, 28), language) == day
        assert format_moment(EVENING, language) == moment  # no seconds, the store's clock
        assert format_day(LATE, language).startswith("01")


def test_times_follow_the_configured_time_zone(app):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "America/New_York"
    with app.test_request_context():
        assert format_moment(EVENING, "de") == "28.11.2026, 16:11"


@pytest.mark.parametrize(("language", "written"), [
    ("de", "28. November 2026, 22:11 Uhr"),
    ("fr", "28 novembre 2026 à 22 h 11"),
    ("pl", "28 listopada 2026 r., godz. 22:11"),
    ("en", "28 November 2026 at 22:11"),
])
def test_mails_write_moments_as_the_language_does(app, language, written):
    with app.app_context():
        assert format_mail_moment(EVENING, language) == written


def test_the_first_of_the_month_in_french_mails(app):
    with app.app_context():
        assert format_mail_moment(LATE, "fr") == "1er décembre 2026 à 0 h 30"
        assert format_mail_moment(LATE, "de") == "1. Dezember 2026, 00:30 Uhr"


@pytest.mark.parametrize(("language", "small", "large"), [
    ("de", "2.010", "12.010"),
    ("fr", "2\u202f010", "12\u202f010"),
    ("pl", "2010", "12\u00a0010"),  # CLDR: Polish groups from five digits on
    ("en", "2,010", "12,010"),
])
def test_numbers_group_as_cldr_says(app, language, small, large):
    with app.test_request_context():
        assert format_number(2010, language) == small
        assert format_number(12010, language) == large
        assert format_number(7, language) == "7"


def test_amounts_group_as_counts_do():
    assert format_money(Decimal("1234.5"), "PLN", "pl") == "1234,50\xa0zł"
    assert format_money(Decimal("12345.5"), "PLN", "pl") == "12\xa0345,50\xa0zł"
    assert format_money(Decimal("1234.5"), "EUR", "de") == "1.234,50\xa0€"


def test_percentages(app):
    with app.test_request_context():
        assert format_percentage(45, "de") == "45\u00a0%"
        assert format_percentage(45, "pl") == "45%"


@pytest.mark.parametrize(("text", "day"), [
    ("28.11.2026", date(2026, 11, 28)), ("3.4.2026", date(2026, 4, 3)),
    ("03/04/2026", date(2026, 4, 3)), ("03-04-2026", date(2026, 4, 3)),
    (" 2026-04-03 ", date(2026, 4, 3)), ("", None),
])
def test_days_are_read_day_first_or_iso(text, day):
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["31.02.2026", "28.11.26", "2026/11/28", "tomorrow", "1.1"])
def test_what_is_not_a_day_is_refused(text):
    with pytest.raises(ValueError):
        parse_day(text)


def test_polish_sorts_its_own_letters_after_their_base(app):
    names = ["Łotwa", "Luksemburg", "Litwa", "Szwecja", "Święta Helena", "Syria", "Żyrardów",
             "Źródło", "Zambia", "Czad", "Ćma", "Dania"]
    assert sorted(names, key=lambda name: collation_key(name, "pl")) == [
        "Czad", "Ćma", "Dania", "Litwa", "Luksemburg", "Łotwa", "Syria", "Szwecja",
        "Święta Helena", "Zambia", "Źródło", "Żyrardów"]
    # German and French sort accents with their letter.
    assert sorted(["Österreich", "Oman", "Ozean"], key=lambda n: collation_key(n, "de")) == [
        "Oman", "Österreich", "Ozean"]
    assert sorted(["Égypte", "Estonie", "Eswatini", "Érythrée", "Équateur"],
                  key=lambda n: collation_key(n, "fr")) == [
        "Égypte", "Équateur", "Érythrée", "Estonie", "Eswatini"]


def test_country_lists_hold_iso_countries_only(app):
    with app.test_request_context(), force_locale("pl"):
        choices = country_choices()
    codes = [code for code, _ in choices]
    assert len(codes) == len(set(codes)) == 249
    assert not {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "DG"} & set(codes)
    names = [name for _, name in choices]
    assert names.index("Luksemburg") < names.index("Łotwa") < names.index("Madagaskar")


def test_the_store_countries_come_first(app):
    with app.test_request_context(), force_locale("de"):
        first = store_countries({"store_country": "AT", "default_language": "de"})
        assert first == ("AT", "DE", "LI", "CH")  # Deutschland, Liechtenstein, Schweiz
        choices = country_choices(first)
        assert [code for code, _ in choices[:4]] == list(first)
        assert choices[4][1] == "Afghanistan" and len(choices) == 249
        polish = store_countries({"store_country": "PL", "default_language": "pl"})
        assert polish == ("PL",)


def test_country_lists_are_worked_out_once(app):
    from shopadmin.countries import _sorted_countries

    with app.test_request_context(), force_locale("fr"):
        country_choices(("FR",))
        before = _sorted_countries.cache_info().hits
        country_choices(("FR",))
        assert _sorted_countries.cache_info().hits == before + 1


@pytest.mark.parametrize(("country", "fmt"), [
    ("DE", "csv_semicolon"), ("AT", "csv_semicolon"), ("FR", "csv_semicolon"),
    ("PL", "csv_semicolon"), ("BE", "csv_semicolon"), ("NL", "csv_semicolon"),
    ("IT", "csv_semicolon"), ("ES", "csv_semicolon"), ("GB", "csv"), ("US", "csv"),
    ("IE", "csv"),
])
def test_the_default_csv_is_the_one_the_countrys_excel_opens(country, fmt):
    assert default_export_format(country) == fmt
