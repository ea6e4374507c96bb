"""How customer values read on a page: yes/no, country and language names, dates."""

from collections.abc import Sequence
from datetime import date

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from markupsafe import Markup, escape

from ..countries import country_name
from ..formats import format_day
from ..i18n import language_name
from .choices import GENDER_LABELS, TYPE_LABELS, CustomerType, Gender
from .fields import BY_NAME, Kind
from .models import Customer

# What a customer's history calls its events, the parts that wrote them without a staff member,
# and where a change of consent came from.
AUDIT_ACTIONS = {
    "customer.created": _lp("customer event", "Created"),
    "customer.updated": _lp("customer event", "Changed"),
    "customer.deleted": _lp("customer event", "Deleted"),
    "customer.restored": _lp("customer event", "Restored"),
    "customer.privacy_exported": _l("Data handed out (privacy request)"),
    "password_mail": _l("Password link sent"), "password_set": _l("Password set"),
}
AUDIT_SOURCES = {"import": _l("Import"), "storefront": _l("Shop"), "system": _l("System")}
CONSENT_SOURCES = {"staff": _l("by staff"), "import": _l("by an import"),
                   "storefront": _l("in the shop"), "api": _l("through the shop API")}


def display_value(value, name: str) -> str:
    """A stored (or audit-recorded) value of field `name` as staff read it."""
    if value is None or value == "" or value == []:
        return "—"
    field = BY_NAME.get(name)
    kind = field.kind if field else None
    if kind == Kind.BOOL or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind == Kind.COUNTRY:
        return country_name(value)
    if kind == Kind.LANGUAGE:
        return language_name(value)
    if kind == Kind.GENDER:
        return str(GENDER_LABELS.get(Gender(value), value))
    if kind == Kind.CUSTOMER_TYPE:
        return str(TYPE_LABELS.get(CustomerType(value), value))
    if kind == Kind.DATE:
        return format_day(value if isinstance(value, date) else date.fromisoformat(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def list_cells(customer: Customer, columns: Sequence[str]) -> Markup:
    """The <td> cells of one customer's row on the list page, each value escaped: one call per
    row, where a template macro per cell cost some 30 µs each (a page holds 400 cells)."""
    page = None
    cells = []
    for name in columns:
        if name in ("name", "email"):
            page = page or escape(url_for("customers.edit", customer_id=customer.id))
            text = customer.email if name == "email" else customer.full_name or "—"
            cells.append(f'<td><a href="{page}">{escape(text)}</a></td>')
        elif name in ("created_at", "updated_at"):
            moment = getattr(customer, name)
            cells.append(f"<td>{escape(format_day(moment)) if moment else ''}</td>")
        elif name == "groups":
            cells.append(f"<td>{escape(', '.join(group.name for group in customer.groups))}</td>")
        else:
            cells.append(f"<td>{escape(display_value(getattr(customer, name), name))}</td>")
    return Markup("".join(cells))


def register(app: Flask) -> None:
    app.jinja_env.globals["list_cells"] = list_cells
    app.jinja_env.filters["audit_value"] = display_value
    app.jinja_env.filters["audit_action"] = lambda action: AUDIT_ACTIONS.get(action, action)
    app.jinja_env.filters["audit_source"] = lambda source: AUDIT_SOURCES.get(source, source)
    app.jinja_env.filters["consent_source"] = lambda source: CONSENT_SOURCES[source.value]
