from flask import Blueprint

# One blueprint; its views live in template_routes.py (templates and outbox, admins) and
# mail_routes.py (sending, the mail log and batches, all staff).
bp = Blueprint("notifications", __name__)
