"""Reading and changing the store settings."""

from functools import lru_cache
from typing import Any

from flask import current_app

from ..extensions import db
from .models import Setting


def default_settings(country: str = "") -> dict[str, Any]:
    """What a new store starts with; the configuration seeds the shop URL and default language,
    which follows the store's `country` (the stored one, else STORE_COUNTRY) unless configured."""
    config = current_app.config
    return {
        "shop_name": config.get("MAIL_DEFAULT_SENDER_NAME") or "Shop",
        "shop_url": config["SHOP_URL"],
        "store_country": STORE_COUNTRY,
        "default_language": config.get("DEFAULT_LANGUAGE") or _country_default(country),
        "languages": list(config["LANGUAGES"]),
        "export_format": default_export_format(country or STORE_COUNTRY),
        "export_keep_days": 7,
        "sender_address": config["MAIL_DEFAULT_SENDER"],
        "guest_order_policy": "keep_out",
        # Accounts created in the storefront wait for approval before they may buy.
        "require_approval": False,
        # Who must sign in with a second factor: "off", "admins" or "everyone" (two_factor.py).
        "require_two_factor": "off",
        "reset_link_hours": 72,
        "forgot_link_hours": 2,
        # How fast batches of mails go out; 0: as fast as the mail server takes them.
        "mail_rate_per_minute": 600,
        "trash_days": 30,
        # Retention (retention.py): uploaded worksheets with their rejected rows; password
        # links used or expired, API idempotency keys and outbox copies of mails.
        "upload_keep_days": 30,
        "spent_keep_days": 30,
        # The number series that imports draw customer numbers from (customers/numbers.py).
        "customer_number_prefix": "",
        "customer_number_digits": 5,
        "customer_number_next": 1,
        # The consent statement shown with the newsletter switch, kept with every consent change:
        # the store's own text by language; a language without one uses the shipped statement
        # in that language (customers/consent.py).
        "newsletter_consent_texts": {},
    }


STORE_COUNTRY = "DE"


@lru_cache(maxsize=64)
def default_export_format(country: str) -> str:
    """The CSV that the country's Excel opens in columns: semicolons where the country writes
    decimals with a comma (DE, AT, FR, BE, NL, PL, IT, ES, ...; CLDR's number symbols of the
    country's main language), else commas."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(f"und_{country.upper()}")
        comma = locale.number_symbols["latn"]["decimal"] == ","
    except (ValueError, UnknownLocaleError, KeyError):
        comma = False
    return "csv_semicolon" if comma else "csv"


def _country_default(country: str) -> str:
    """Until the settings say otherwise, the store's default language is its country's
    (DE, AT -> de; FR -> fr; PL -> pl), else English."""
    from ..i18n import country_language

    return country_language(country or STORE_COUNTRY, current_app.config["LANGUAGES"]) or "en"


def get_settings() -> dict[str, Any]:
    """All settings: the stored values over the defaults."""
    stored = {row.key: row.value for row in db.session.scalars(db.select(Setting))}
    values = default_settings(stored.get("store_country", ""))
    values.update((key, value) for key, value in stored.items() if key in values)
    return values


def get_setting(key: str) -> Any:
    row = db.session.get(Setting, key)
    if row is not None:
        return row.value
    if key in ("default_language", "export_format"):  # follow the stored country
        country = db.session.get(Setting, "store_country")
        return default_settings(country.value if country is not None else "")[key]
    return default_settings()[key]


def update_settings(changes: dict[str, Any]) -> None:
    """Store the given values. Flushes; the caller commits."""
    known = default_settings()
    for key, value in changes.items():
        if key not in known:
            raise KeyError(key)
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value
    db.session.flush()
