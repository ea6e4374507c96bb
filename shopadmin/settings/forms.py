from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are older
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from ..i18n import country_choices, language_name
from ..pickers import CheckboxesField

EXPORT_FORMATS = {
    "csv": _l("CSV (comma, UTF-8)"),
    "csv_semicolon": _l("CSV (semicolon, for Excel)"),
    "xlsx": _l("Excel workbook (XLSX)"),
    "json": _l("JSON"),
}

TWO_FACTOR_REQUIREMENTS = {
    "off": _l("Off"),
    "admins": _l("For administrators"),
    "everyone": _l("For everyone"),
}

GUEST_ORDER_POLICIES = {
    "keep_out": _l("Keep guests out of the register (their details stay on the order)"),
    "create_account": _l("Create a customer account for every guest order"),
}


def is_sender_address(value: str) -> bool:
    """A sender need not be reachable from the internet: the shipped `shop@localhost` of the local
    outbox, and a name on an intranet host, are fine; the address must still be well formed."""
    local, _at, domain = value.strip().rpartition("@")
    if domain.lower() == "localhost":
        value = f"{local}@example.com"  # the local part is checked as for any other domain
    try:
        validate_email(value, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        return False
    return True


class StoreSettingsForm(FlaskForm):
    shop_name = StringField(_l("Shop name"), validators=[InputRequired(), Length(max=120)])
    shop_url = StringField(_l("Shop URL"), validators=[
        InputRequired(), URL(require_tld=False, message=_l("Enter a full address with https://.")),
        Length(max=300)])
    store_country = SelectField(_l("Store country"))
    default_language = SelectField(_l("Default language"))
    languages = CheckboxesField(_l("Languages offered to customers"))
    export_format = SelectField(_l("Default export format"))
    export_keep_days = IntegerField(_l("Days an export file is kept"),
                                    validators=[InputRequired(), NumberRange(1, 365)])
    guest_order_policy = SelectField(_l("Orders placed as a guest"),
                                     choices=[SelectChoice(value, label) for value, label
                                              in GUEST_ORDER_POLICIES.items()])
    require_approval = BooleanField(_l("New accounts from the shop wait for approval"))
    require_two_factor = SelectField(_l("Require two-factor sign-in"),
                                     choices=[SelectChoice(value, label) for value, label
                                              in TWO_FACTOR_REQUIREMENTS.items()])
    sender_address = EmailField(_l("Sender address of mails"),
                                validators=[InputRequired(), Length(max=254)])
    trash_days = IntegerField(_l("Days in the trash before removal"),
                              validators=[InputRequired(), NumberRange(1, 3650)])
    upload_keep_days = IntegerField(_l("Days uploaded files and rejected rows are kept"),
                                    validators=[InputRequired(), NumberRange(1, 3650)])
    spent_keep_days = IntegerField(
        _l("Days used password links, API idempotency keys and outbox mails are kept"),
        validators=[InputRequired(), NumberRange(1, 3650)])
    reset_link_hours = IntegerField(_l("Account password links valid for (hours)"),
                                    validators=[InputRequired(), NumberRange(1, 24 * 60)])
    customer_number_prefix = StringField(_l("Customer numbers: prefix"),
                                         validators=[Length(max=20)])
    # (A form sent without the series keeps it: DataRequired checks the value, which the
    # current settings fill in, not the sent text.)
    customer_number_digits = IntegerField(_l("Customer numbers: digits"),
                                          validators=[DataRequired(), NumberRange(1, 12)])
    customer_number_next = IntegerField(_l("Customer numbers: next number"),
                                        validators=[DataRequired(), NumberRange(1, 10**12)])
    forgot_link_hours = IntegerField(_l("Forgotten password links valid for (hours)"),
                                     validators=[InputRequired(), NumberRange(1, 72)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = [(code, language_name(code)) for code in current_app.config["LANGUAGES"]]
        self.store_country.choices = country_choices()
        self.default_language.choices = languages
        self.languages.choices = languages
        self.export_format.choices = list(EXPORT_FORMATS.items())

    def validate_sender_address(self, field):
        if not is_sender_address(field.data or ""):
            raise ValidationError(_l("Enter an e-mail address such as shop@example.com."))

    def validate_languages(self, field):
        if not field.data:
            raise ValidationError(_l("Offer at least one language."))

    def validate_default_language(self, field):
        if self.languages.data and field.data not in self.languages.data:
            raise ValidationError(_l("The default language must be one of the languages offered."))
