"""Views of the customer register (see blueprint.py)."""

from .blueprint import bp  # noqa: F401
