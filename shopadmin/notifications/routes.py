"""The notifications blueprint with all its views (template_routes.py, mail_routes.py)."""

from . import mail_routes, template_routes  # noqa: F401  (views onto bp)
from .blueprint import bp  # noqa: F401
