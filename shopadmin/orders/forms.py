"""Forms of the order pages and of the API keys."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as C  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are older
from wtforms.validators import DataRequired, Length, Optional

from ..date_field import DayField
from ..i18n import country_choices
from .models import OrderStatus

STATUS_LABELS = {
    OrderStatus.NEW: _lp("order status", "New"),
    OrderStatus.PROCESSING: _lp("order status", "Processing"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.COMPLETED: _lp("order status", "Completed"),
    OrderStatus.CANCELLED: _lp("order status", "Cancelled"),
}
PAYMENT_LABELS = {
    "pending": _l("Payment pending"),
    "paid": _l("Paid"),
    "refunded": _l("Refunded"),
    "failed": _l("Payment failed"),
}


class OrderFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=[C("", _l("All statuses"))] + [
        C(status.value, label) for status, label in STATUS_LABELS.items()], validate_choice=False)
    date_from = DayField(_lp("date filter", "From"), validators=[Optional()])
    date_to = DayField(_lp("date filter", "To"), validators=[Optional()])
    kind = SelectField(_l("Customer"), choices=[
        C("", _l("Guests and registered")), C("guest", _l("Guests only")),
        C("registered", _l("Registered customers only"))], validate_choice=False)
    country = SelectField(_l("Country"), validate_choice=False)
    sort = SelectField(_l("Sort"), choices=[C("newest", _lp("order sort", "Newest first")),
                                            C("oldest", _lp("order sort", "Oldest first"))],
                       validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [C("", _l("All countries"))] + [
            C(code, name) for code, name in country_choices()]


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[
        C(status.value, label) for status, label in STATUS_LABELS.items()])


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name of the key"), validators=[DataRequired(), Length(max=100)])
