from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are older
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..i18n import language_name
from .models import Role


def language_choices(include_automatic: bool = True) -> list:
    """Each interface language in its own name, marked as that language for screen readers."""
    choices = [SelectChoice("", _l("Automatic (browser)"))] if include_automatic else []
    return choices + [SelectChoice(code, language_name(code, code), render_kw={"lang": code})
                      for code in current_app.config["LANGUAGES"]]


def role_choices() -> list[tuple[str, str]]:
    return [(Role.STAFF.value, _l("Staff")), (Role.ADMIN.value, _l("Administrator"))]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ProfileForm(FlaskForm):
    name = StringField(_lp("person", "Name"), validators=[Optional(), Length(max=120)])
    language = SelectField(_l("Interface language"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class StaffCreateForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_lp("person", "Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"))
    language = SelectField(_l("Interface language"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.language.choices = language_choices()


class StaffEditForm(FlaskForm):
    name = StringField(_lp("person", "Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"))
    language = SelectField(_l("Interface language"), validators=[Optional()])
    active = BooleanField(_l("Active (may sign in)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.language.choices = language_choices()


class CodeForm(FlaskForm):
    """A code from the authenticator app (six digits), or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off",
                                  "spellcheck": "false"})


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""
