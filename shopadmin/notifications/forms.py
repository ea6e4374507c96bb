from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20000)],
                         render_kw={"rows": 18, "spellcheck": "true"})
    customer = StringField(_l("Preview for customer"), validators=[Optional(), Length(max=254)],
                           render_kw={"placeholder": _l("E-mail or customer number")})
