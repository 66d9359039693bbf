"""The second factor's forms (issue 16); every one carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.validation import MAX_PASSWORD_LENGTH


class CodeForm(FlaskForm):
    """A code from the authenticator app (or a recovery code)."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Continue"))


class RemoveForm(FlaskForm):
    """Turning two-step sign-in off: the password, or a code."""

    password = PasswordField(
        _l("Current password"), validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    code = StringField(_l("Or a code"), validators=[Optional(), Length(max=64)])
    submit = SubmitField(_l("Turn two-step sign-in off"))
