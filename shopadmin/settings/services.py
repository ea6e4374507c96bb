"""Reading and changing the store settings."""

from typing import Any

from flask import current_app

from ..extensions import db
from .models import Setting


def default_settings() -> dict[str, Any]:
    """What a new store starts with; the configuration seeds the shop URL and default language."""
    config = current_app.config
    return {
        "shop_name": "Shop",
        "shop_url": config["SHOP_URL"],
        "store_country": STORE_COUNTRY,
        "default_language": config.get("DEFAULT_LANGUAGE") or _country_default(),
        "languages": list(config["LANGUAGES"]),
        "export_format": "csv",
        "export_keep_days": 7,
        "sender_address": config["MAIL_DEFAULT_SENDER"],
        "guest_order_policy": "keep_out",
        # Accounts created in the storefront wait for approval before they may buy.
        "require_approval": False,
        "reset_link_hours": 72,
        "forgot_link_hours": 2,
        # How fast batches of mails go out; 0: as fast as the mail server takes them.
        "mail_rate_per_minute": 600,
        "trash_days": 30,
        # Retention (retention.py): uploaded worksheets with their rejected rows; password
        # links used or expired, API idempotency keys and outbox copies of mails.
        "upload_keep_days": 30,
        "spent_keep_days": 30,
        # The consent statement shown with the newsletter switch, kept with every consent change.
        "newsletter_consent_text": "The customer agrees to receive marketing e-mails.",
    }


STORE_COUNTRY = "DE"


def _country_default() -> str:
    """Until the settings say otherwise, the store's default language is its country's
    (DE, AT -> de; FR -> fr; PL -> pl), else English."""
    from ..i18n import country_language

    row = db.session.get(Setting, "store_country")
    country = row.value if row is not None else STORE_COUNTRY
    return country_language(country, current_app.config["LANGUAGES"]) or "en"


def get_settings() -> dict[str, Any]:
    """All settings: the stored values over the defaults."""
    values = default_settings()
    for row in db.session.scalars(db.select(Setting)):
        if row.key in values:
            values[row.key] = row.value
    return values


def get_setting(key: str) -> Any:
    row = db.session.get(Setting, key)
    return row.value if row is not None else default_settings()[key]


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
