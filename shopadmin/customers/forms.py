"""The customer form, built from the field table so that it never lists fields of its own."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from ..date_field import DayField
from ..extensions import db
from ..i18n import country_choices, customer_language_choices
from ..pickers import CheckboxesField
from ..settings.services import get_setting
from .choices import GENDER_LABELS, TYPE_LABELS, CustomerType
from .fields import (
    COMPANY_FIELDS,
    EDITABLE,
    REQUIRED_TO_CREATE,
    SHIPPING_FIELDS,
    CustomerField,
    Kind,
)
from .models import CustomerGroup

TEXT_KINDS = {Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL, Kind.PHONE}


def _form_field(f: CustomerField):
    text_checks = [InputRequired() if f.name in REQUIRED_TO_CREATE else Optional()]
    if f.max_length:
        text_checks.append(Length(max=f.max_length))
    match f.kind:
        case Kind.BOOL:
            return BooleanField(f.label)
        case Kind.DATE:
            return DayField(f.label, validators=[Optional()])
        case Kind.LONG_TEXT:
            return TextAreaField(f.label, validators=[Optional(), Length(max=20000)])
        case Kind.COUNTRY | Kind.LANGUAGE | Kind.GENDER:
            return SelectField(f.label, validators=[Optional()])
        case Kind.CUSTOMER_TYPE:
            return SelectField(f.label, default=CustomerType.PRIVATE.value)
        case Kind.GROUPS:
            return CheckboxesField(f.label, coerce=int, validators=[Optional()])
        case _:
            return StringField(f.label, validators=text_checks)


class CustomerForm(FlaskForm):
    """Every editable customer field; `version` carries the version the form was opened at."""

    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        countries = [("", "—"), *country_choices()]
        for f in EDITABLE:
            field = self[f.name]
            match f.kind:
                case Kind.COUNTRY:
                    field.choices = countries
                case Kind.LANGUAGE:
                    field.choices = [("", "—"),
                                     *customer_language_choices(get_setting("languages"))]
                case Kind.GENDER:
                    field.choices = [("", "—"), *((g.value, label)
                                                  for g, label in GENDER_LABELS.items())]
                case Kind.CUSTOMER_TYPE:
                    field.choices = [(kind.value, label) for kind, label in TYPE_LABELS.items()]
                case Kind.GROUPS:
                    field.choices = [
                        (group.id, group.name)
                        for group in db.session.scalars(
                            select(CustomerGroup).order_by(CustomerGroup.name)
                        )
                    ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.opened_version() is None:
            self.form_errors.append(_l(
                "The form arrived damaged, so nothing was saved; your input is kept below. "
                "Open the customer again and enter your changes there."))
            return False
        return valid

    def opened_version(self) -> int | None:
        """The version the form was opened at (0 for a new customer); None when it is garbled."""
        text = str(self.version.data or "0").strip()
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            return None
        return int(text)

    def values(self) -> dict:
        """The submitted values by field name, as the services take them."""
        data = {f.name: self[f.name].data for f in EDITABLE}
        for f in EDITABLE:
            if f.kind in TEXT_KINDS and data[f.name] is None:
                data[f.name] = ""
        hidden = () if data.get("customer_type") == CustomerType.BUSINESS.value else COMPANY_FIELDS
        if not data.get("shipping_differs"):
            hidden += SHIPPING_FIELDS
        for name in hidden:
            data.pop(name)
        return data


for _field in EDITABLE:
    setattr(CustomerForm, _field.name, _form_field(_field))
