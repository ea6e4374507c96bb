"""Read by gunicorn when started in this folder: several workers need REDIS_URL (see
shopadmin/serving.py)."""

from shopadmin.serving import on_starting  # noqa: F401
