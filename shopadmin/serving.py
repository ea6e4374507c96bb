"""gunicorn's hooks: refuse to serve with several web worker processes whose limits nobody
shares, and have each worker place the customer list's default order as it starts.

The rate limits (sign-in, forgotten password, reset page, API) are counted in memory unless
REDIS_URL names a store every process sees; with four workers each would allow the whole limit,
so an attacker gets four times the attempts. Both `flask serve` and gunicorn (through
`gunicorn.conf.py` at the root of the checkout, or `-c python:shopadmin.serving`) refuse that.
"""

import logging
import os
import threading

LIMITS_NEED_REDIS = (
    "{workers} web worker processes would each count the rate limits (sign-in, forgotten "
    "password, API) on their own, allowing {workers} times the attempts. Set REDIS_URL so that "
    "they share the counts, or run one worker process (more threads are fine)."
)


def limits_problem(workers: int, redis_url: str | None) -> str | None:
    """Why this many worker processes may not serve without Redis; None when they may."""
    if workers > 1 and not redis_url:
        return LIMITS_NEED_REDIS.format(workers=workers)
    return None


def on_starting(server) -> None:
    """gunicorn's hook, run by the master before it forks a worker."""
    problem = limits_problem(server.cfg.workers, os.environ.get("REDIS_URL", ""))
    if problem:
        raise RuntimeError(problem)  # gunicorn prints "Error: ..." and exits with status 1


def post_worker_init(worker) -> threading.Thread:
    """gunicorn's hook, run in each worker once it has loaded the app: the customer list's
    default order placed in a thread of its own while the worker already answers (the thread
    is returned for whoever waits on it; gunicorn does not)."""
    from .customers.listing import place_default_order

    def place() -> None:
        try:
            place_default_order(worker.wsgi)
        except Exception:  # a list placed later, on its first deep page, is only slower
            logging.getLogger(__name__).exception("placing the customer list's order failed")

    thread = threading.Thread(target=place, name="place-customer-list", daemon=True)
    thread.start()
    return thread
