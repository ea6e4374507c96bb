"""Background tasks. Thin: each loads its rows, calls a service and records progress.

Importing this module builds no app and opens no database: the app is bound by create_app(),
in the web process and in the worker (`flask --app wsgi worker`) alike.
"""

import functools
import time

from huey import crontab

from .extensions import huey

_app = None
HEARTBEAT_KEY = "worker-heartbeat"


def bind_app(app) -> None:
    global _app
    _app = app


def job(periodic=None, **options):
    """huey.task() (or huey.periodic_task(periodic) given a crontab), run in the bound app's
    context with the database session closed afterwards."""

    def decorator(func):
        @functools.wraps(func)
        def run_in_app(*args, **kwargs):
            if _app is None:
                raise RuntimeError("no application bound to the job queue")
            from .extensions import db

            with _app.app_context():
                try:
                    return func(*args, **kwargs)
                finally:
                    db.session.remove()

        if periodic is not None:
            return huey.periodic_task(periodic, **options)(run_in_app)
        return huey.task(**options)(run_in_app)

    return decorator


def record_heartbeat() -> None:
    huey.put(HEARTBEAT_KEY, time.time())


def last_heartbeat() -> float | None:
    """When a worker last said it was alive (epoch seconds), or None."""
    try:
        return huey.get(HEARTBEAT_KEY, peek=True)
    except Exception:  # noqa: BLE001  (a queue that cannot be read means: no worker seen)
        return None


@huey.on_startup()
def _worker_started():
    record_heartbeat()


@huey.periodic_task(crontab(minute="*"))
def heartbeat():
    record_heartbeat()


@job(periodic=crontab(hour="3", minute="15"))
def purge_expired_sessions():
    from .auth.services import purge_expired_sessions as purge
    from .extensions import db

    purge()
    db.session.commit()
