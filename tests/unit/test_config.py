"""Configuration from the environment and the instance folder."""

import pytest

from shopadmin.config import build_config, load_secret_key


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_secret_key(tmp_path)
    assert len(first) == 64
    assert load_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_https_shop_url_makes_cookies_secure_and_trusts_its_host(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_URL", "https://admin.example.com/")
    monkeypatch.delenv("SHOPADMIN_TRUSTED_HOSTS", raising=False)
    config = build_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SHOP_URL"] == "https://admin.example.com"
    assert "admin.example.com" in config["TRUSTED_HOSTS"]


def test_database_url_for_postgresql_uses_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/shop")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/shop"
    monkeypatch.delenv("DATABASE_URL")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_a_default_sender_with_a_name_gives_the_address_and_the_shop_name(tmp_path, monkeypatch):
    """Flask-Mail's "Name <address>" form: the address alone is the sender address (it went
    into the From header whole, which then read `Shop <"Sklep Test">`), the name the shop's."""
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "Sklep Łódź <sklep@example.pl>")
    config = build_config(tmp_path)
    assert (config["MAIL_DEFAULT_SENDER"], config["MAIL_DEFAULT_SENDER_NAME"]) == (
        "sklep@example.pl", "Sklep Łódź")
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "shop@example.com")
    assert build_config(tmp_path)["MAIL_DEFAULT_SENDER_NAME"] == ""


@pytest.mark.parametrize("value", ["Sklep Test", "Sklep Test <>", "@example.com", "shop@"])
def test_a_default_sender_that_is_not_an_address_stops_the_start_saying_so(
        tmp_path, monkeypatch, value):
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", value)
    with pytest.raises(ValueError, match="MAIL_DEFAULT_SENDER is not an e-mail address"):
        build_config(tmp_path)
