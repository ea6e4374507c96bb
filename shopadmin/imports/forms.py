"""Forms of the import: the upload, and the mapping review with the options."""

from types import SimpleNamespace

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice as C  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are older
from wtforms.validators import NumberRange, Optional

from ..i18n import customer_language_choices
from ..pickers import groups_by_section
from ..settings.services import get_setting
from .plan import CREATE_ONLY, CREATE_UPDATE, UPDATE_ONLY, ImportOptions


class UploadForm(FlaskForm):
    file = FileField(_l("Worksheet (CSV, XLSX or ODS)"),
                     validators=[FileRequired(_l("Choose a file."))])
    kind = RadioField(_l("What to import"), choices=[C("customers", _l("Customers"))],
                      default="customers")


class OptionsForm(FlaskForm):
    mode = RadioField(_l("What to do"), default=CREATE_UPDATE, choices=[
        C(CREATE_UPDATE, _l("Create new customers and update existing ones")),
        C(CREATE_ONLY, _l("Only create new customers")),
        C(UPDATE_ONLY, _l("Only update existing customers")),
    ])
    match = RadioField(_l("Find existing customers by"), default="email", choices=[
        C("email", _l("E-mail address (upper or lower case alike)")),
        C("customer_number", _l("Customer number")),
    ])
    empty = RadioField(_l("An empty cell"), default="keep", choices=[
        C("keep", _l("keeps the current value")),
        C("clear", _l("clears the current value")),
    ])
    on_errors = RadioField(_l("Rows with errors"), default="skip", choices=[
        C("skip", _l("are skipped; the other rows are imported")),
        C("stop", _l("stop the import when there are more than the number below")),
    ])
    max_bad_rows = IntegerField(_l("Most bad rows allowed"), default=0,
                                validators=[Optional(), NumberRange(min=0)])
    date_order = SelectField(_l("Dates like 03/04/2024"), default="", choices=[
        C("", _l("are errors (ambiguous)")),
        C("dmy", _l("are day/month/year")),
        C("mdy", _l("are month/day/year")),
    ])
    create_groups = BooleanField(_l("Create customer groups that do not exist yet"))
    number_series = BooleanField(_l("Give new customers without a customer number the next "
                                    "free number of the store’s number series"))
    split_street = BooleanField(_l("Split an address like “Hauptstraße 12” or “12 rue de la "
                                   "Paix” into street and house number"))
    language = SelectField(_l("Language of customers without one"), default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [
            C("", _l("the language of their country, where the shop writes it; else the "
                     "shop's default language")),
            *(C(code, name) for code, name in customer_language_choices(
                get_setting("languages"))),
        ]

    def fill(self, options: ImportOptions) -> None:
        self.mode.data, self.match.data = options.mode, options.match
        self.empty.data = "clear" if options.empty_clears else "keep"
        self.on_errors.data = "skip" if options.max_bad_rows is None else "stop"
        self.max_bad_rows.data = options.max_bad_rows or 0
        self.date_order.data = options.date_order or ""
        self.create_groups.data = options.create_groups
        self.split_street.data = options.split_street
        self.number_series.data = options.number_series
        self.language.data = options.language or ""

    def to_options(self) -> ImportOptions:
        stop = self.on_errors.data == "stop"
        return ImportOptions(
            mode=self.mode.data, match=self.match.data, empty_clears=self.empty.data == "clear",
            max_bad_rows=(self.max_bad_rows.data or 0) if stop else None,
            date_order=self.date_order.data or None, create_groups=bool(self.create_groups.data),
            language=self.language.data or None, split_street=bool(self.split_street.data),
            number_series=bool(self.number_series.data),
        )


def language_date_order() -> str:
    """How dates like 03/04/2024 read in the interface language, in the store's country where
    that language is written there ("en" in GB: day first; "en" alone: month first)."""
    language = get_locale().language
    try:
        locale = Locale(language, get_setting("store_country") or None)
    except (UnknownLocaleError, ValueError):
        locale = Locale(language)
    pattern = locale.date_formats["short"].pattern.lower()
    return "mdy" if pattern.index("m") < pattern.index("d") else "dmy"


def target_choices() -> list[tuple[object | None, list[tuple[str, str]]]]:
    """The mapping's choices under their sections' headings ("Billing address", "Shipping
    address", "Company information", ...), each label once; "ignore" first, under no heading."""
    from ..customers.fields import BY_NAME, Section
    from .headings import EXTRA_TARGETS, TARGETS

    sections = {name: BY_NAME[name].section for name in TARGETS if name in BY_NAME}
    sections.update(dict.fromkeys(EXTRA_TARGETS, Section.PERSONAL))
    grouped = groups_by_section(SimpleNamespace(name=name, section=sections[name])
                                for name in TARGETS)
    return [(None, [("", str(_l("— ignore this column —")))])] + [
        (heading, sorted(((name, str(TARGETS[name])) for name in names),
                         key=lambda item: item[1].casefold()))
        for heading, names in grouped]
