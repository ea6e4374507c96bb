"""Read by gunicorn when started in this folder: several workers need REDIS_URL, and each
worker places the customer list's default order in the background (see shopadmin/serving.py)."""

from shopadmin.serving import on_starting, post_worker_init  # noqa: F401
