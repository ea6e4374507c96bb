from flask import Blueprint

# One blueprint for the register; its views live in routes.py (a customer), list_routes.py
# (the list, search and bulk actions) and group_routes.py (groups, trash, privacy requests).
bp = Blueprint("customers", __name__, url_prefix="/customers")
