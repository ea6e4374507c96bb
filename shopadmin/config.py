"""Defaults, and the environment variables that override them.

Every variable is listed in the README. What a deployment owns (database file, secret key,
uploads, exports, job queue) lives in the instance folder.
"""

import os
import secrets
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("de", "fr", "en", "pl")


def instance_path() -> Path:
    return Path(os.environ.get("SHOPADMIN_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def files_path(folder: Path) -> Path:
    """Where uploads and exports live: a location every web process and worker shares (on
    several machines, a shared mount), else the instance folder."""
    return Path(os.environ.get("SHOPADMIN_FILES_PATH") or folder)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def load_secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else the one generated once under the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = folder / "secret_key"
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when the web process and the worker start together, only one writes the key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def _default_sender(value: str) -> dict[str, str]:
    """MAIL_DEFAULT_SENDER as an address alone or as "Name <address>" (Flask-Mail's form): the
    address seeds the store's sender address, the name its shop name."""
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise ValueError(f"MAIL_DEFAULT_SENDER is not an e-mail address: {value!r}; write "
                         "shop@example.com or: Shop name <shop@example.com>")
    return {"MAIL_DEFAULT_SENDER": address, "MAIL_DEFAULT_SENDER_NAME": name.strip()}


def build_config(folder: Path) -> dict:
    """The configuration for an app whose instance folder is `folder`."""
    shop_url = os.environ.get("SHOP_URL", "http://127.0.0.1:5000").rstrip("/")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'shopadmin.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    redis_url = os.environ.get("REDIS_URL", "")
    secure_cookies = shop_url.startswith("https://")
    files = files_path(folder)
    default_hosts = ["127.0.0.1", "localhost", shop_url.split("://", 1)[-1].split("/", 1)[0]]
    return {
        "SECRET_KEY": load_secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "HUEY_SQLITE_PATH": str(folder / "jobs.db"),
        "SHOP_URL": shop_url,
        "TRUSTED_HOSTS": _env_list("SHOPADMIN_TRUSTED_HOSTS", sorted(set(default_hosts))),
        "PROXY_FIX_X_FOR": int(os.environ.get("SHOPADMIN_PROXY_COUNT", "0")),
        "LANGUAGES": LANGUAGES,
        "BABEL_DEFAULT_LOCALE": os.environ.get("SHOPADMIN_DEFAULT_LANGUAGE", "en"),
        # Unset: a new store's default language follows its country (DE, AT -> de, ...).
        "DEFAULT_LANGUAGE": os.environ.get("SHOPADMIN_DEFAULT_LANGUAGE") or None,
        # Tracked jobs (tracking.py): heartbeat, silence taken for death, sweep interval.
        "JOB_BEAT_SECONDS": float(os.environ.get("SHOPADMIN_JOB_BEAT_SECONDS", "3")),
        "JOB_STALE_SECONDS": float(os.environ.get("SHOPADMIN_JOB_STALE_SECONDS", "15")),
        "SWEEP_SECONDS": float(os.environ.get("SHOPADMIN_JOB_SWEEP_SECONDS", "5")),
        # The job worker yields the processor to the web: an import takes two processes' worth
        # of CPU, and on a machine that serves staff too their pages come first.
        "JOB_WORKER_NICENESS": int(os.environ.get("SHOPADMIN_JOB_WORKER_NICENESS", "10")),
        # The scrub after forgetting customers on SQLite (customers/scrub.py) runs this long
        # after the first erasure, so that the erasures of that time make one scrub.
        "SCRUB_DELAY_SECONDS": float(os.environ.get("SHOPADMIN_SCRUB_DELAY_SECONDS", "60")),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SHOPADMIN_TIMEZONE", "Europe/Berlin"),
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_NAME": "shopadmin_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=int(os.environ.get("SHOPADMIN_SESSION_HOURS", "12"))
        ),
        # A staff session unused this long ends, however long it had left.
        "SESSION_IDLE_TIMEOUT": timedelta(
            minutes=int(os.environ.get("SHOPADMIN_IDLE_MINUTES", "30"))
        ),
        # scrypt at OWASP's floor (N=2^17, r=8, p=1); older hashes are renewed at sign-in.
        "PASSWORD_HASH_METHOD": "scrypt:131072:8:1",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the signed-in session
        "MAX_CONTENT_LENGTH": int(os.environ.get("SHOPADMIN_MAX_UPLOAD_MB", "100")) * 1024 * 1024,
        # Any body but an upload (a form, an API request), and the number of fields in a form
        # (a confirmation page can carry a few thousand customer ids).
        "MAX_FORM_MEMORY_SIZE": int(os.environ.get("SHOPADMIN_MAX_FORM_KB", "500")) * 1024,
        "MAX_FORM_PARTS": int(os.environ.get("SHOPADMIN_MAX_FORM_FIELDS", "10000")),
        # Names the job queue's and the rate limits' keys in Redis, so that several shops (or
        # test runs) can share one Redis.
        "REDIS_PREFIX": os.environ.get("SHOPADMIN_REDIS_PREFIX", "shopadmin"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("SHOPADMIN_LOGIN_LIMIT_ADDRESS", "20/hour"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("SHOPADMIN_LOGIN_LIMIT_ACCOUNT", "5/15 minutes"),
        # Storefront API requests per key (and per client address for those without a key).
        "API_RATE_LIMIT": os.environ.get("SHOPADMIN_API_RATE_LIMIT", "120/minute"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        **_default_sender(os.environ.get("MAIL_DEFAULT_SENDER") or "shop@localhost"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "30")),
        # A mail the server refuses for now is tried this often, waiting 2, 4, 8, ... seconds.
        "MAIL_RETRY_ATTEMPTS": int(os.environ.get("MAIL_RETRY_ATTEMPTS", "5")),
        "MAIL_RETRY_BACKOFF_SECONDS": float(os.environ.get("MAIL_RETRY_BACKOFF_SECONDS", "2")),
        "MAIL_RETRY_BACKOFF_MAX_SECONDS": float(
            os.environ.get("MAIL_RETRY_BACKOFF_MAX_SECONDS", "300")
        ),
        "FORGOT_LIMIT_PER_ADDRESS": os.environ.get("SHOPADMIN_FORGOT_LIMIT_ADDRESS", "20/hour"),
        "FORGOT_LIMIT_PER_EMAIL": os.environ.get("SHOPADMIN_FORGOT_LIMIT_EMAIL", "3/hour"),
        "RESET_LIMIT_PER_ADDRESS": os.environ.get("SHOPADMIN_RESET_LIMIT_ADDRESS", "30/hour"),
        "UPLOAD_FOLDER": str(files / "uploads"),
        "EXPORT_FOLDER": str(files / "exports"),
    }
