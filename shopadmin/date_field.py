"""A date field that reads and writes the interface language's day (28.11.2026, 28/11/2026),
whatever language the browser speaks: a text input with the language's pattern as its hint,
read on the server by formats.parse_day."""

from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.widgets import TextInput

from .formats import date_hint, format_day, parse_day


def unreadable_day_message(text: str) -> str:
    """What a date field says about a text it cannot read as a day."""
    return _("“%(value)s” is not a date we can read; write it as %(pattern)s.",
             value=text, pattern=date_hint())


def day_input(name: str, value: str | None, *, label_id: str | None = None,
              invalid: bool = False) -> Markup:
    """The input of a date filter outside WTForms (the customer list's)."""
    classes = "form-control is-invalid" if invalid else "form-control"
    return Markup(
        '<input class="{classes}" type="text" inputmode="numeric" autocomplete="off" '
        'data-date-field id="{id}" name="{name}" value="{value}" placeholder="{hint}" '
        'maxlength="10">').format(classes=classes, id=escape(label_id or name), name=name,
                                  value=value or "", hint=date_hint())


class DayInput(TextInput):
    def __call__(self, field, **kwargs):
        kwargs.setdefault("placeholder", date_hint())
        kwargs.setdefault("inputmode", "numeric")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("maxlength", 10)
        kwargs.setdefault("data-date-field", True)
        return super().__call__(field, **kwargs)


class DayField(Field):
    """A day typed as the interface language writes it; ISO (yyyy-mm-dd) is read too."""

    widget = DayInput()

    def _value(self) -> str:
        if self.raw_data:
            text = self.raw_data[0]
            try:
                day = parse_day(text)
            except ValueError:
                return text  # shown as typed beside its error
            return format_day(day) if day else ""
        return format_day(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0] or ""
        try:
            self.data = parse_day(text)
        except ValueError:
            self.data = None
            raise ValueError(unreadable_day_message(text.strip())) from None
