"""The rules written once and used everywhere: batching, value-to-JSON, the e-mail key."""

import enum
from datetime import UTC, date, datetime

from sqlalchemy import literal, select

from shopadmin.batching import batched
from shopadmin.database import json_value
from shopadmin.text import email_key, email_key_sql


def test_batched_gives_lists_of_the_size_and_a_shorter_last_one():
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
    assert list(batched((n for n in range(4)), 2)) == [[0, 1], [2, 3]]  # any iterable


class Colour(enum.StrEnum):
    RED = "red"


def test_json_value_keeps_enums_days_and_moments_as_json_reads_them():
    moment = datetime(2026, 11, 28, 21, 11, tzinfo=UTC)
    assert json_value(Colour.RED) == "red" and type(json_value(Colour.RED)) is str
    assert json_value(date(1980, 5, 17)) == "1980-05-17"
    assert json_value(moment) == "2026-11-28T21:11:00+00:00"
    assert json_value([Colour.RED, date(2000, 1, 2), "VIP"]) == ["red", "2000-01-02", "VIP"]
    assert json_value(None) is None and json_value(3) == 3


def test_the_email_key_ignores_case_and_surrounding_spaces():
    assert email_key("  Ana.Nowak@Example.PL \t") == "ana.nowak@example.pl"


def test_the_email_key_in_sql_is_the_same_key(plain_session):
    for address in ("  Ana.Nowak@Example.PL ", "ana.nowak@example.pl", "OLGA@SHOP.TEST"):
        assert plain_session.scalar(select(email_key_sql(literal(address)))) == email_key(address)
