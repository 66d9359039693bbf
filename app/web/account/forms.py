"""The account page's forms; every one carries a CSRF token. Lengths are checked here
so nothing oversized reaches a service; the rules (password policy, addresses) are the
services'."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.fields import FieldSpec
from app.accounts.profile import Profile
from app.accounts.validation import MAX_PASSWORD_LENGTH, NAME_LENGTH
from app.models import Account
from app.web.forms import configured_field

_PASSWORD = [DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]


class ProfileForm(FlaskForm):
    """Names and mobile number; ``profile_form`` adds the configured fields."""

    given_name = StringField(_l("Given name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    family_name = StringField(_l("Family name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    phone_number = TelField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    submit = SubmitField(_l("Save"))

    def profile(self, specs: tuple[FieldSpec, ...]) -> Profile:
        """What the person submitted, as the profile service takes it."""
        custom = {}
        for spec in specs:
            value = self[spec.name].data
            if value is not None and value != "" and value is not False:
                custom[spec.name] = spec.to_stored(value)
        return Profile(
            given_name=self.given_name.data,
            family_name=self.family_name.data,
            phone_number=self.phone_number.data,
            custom_fields=custom,
        )


def profile_form(specs: tuple[FieldSpec, ...], account: Account, submitted: bool) -> ProfileForm:
    """The profile form with the configured fields: the submitted values, or the
    account's own."""
    form_cls = type("ConfiguredProfileForm", (ProfileForm,), {})
    for spec in specs:
        setattr(form_cls, spec.name, configured_field(spec))
    if submitted:
        return form_cls()
    return form_cls(formdata=None, data=_stored(specs, account))


def _stored(specs: tuple[FieldSpec, ...], account: Account) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": account.given_name,
        "family_name": account.family_name,
        "phone_number": account.phone_number,
    }
    for spec in specs:
        value = account.custom_fields.get(spec.name)
        if spec.type == "date" and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        data[spec.name] = value
    return data


class PasswordForm(FlaskForm):
    """The current password and a new one."""

    current_password = PasswordField(_l("Current password"), validators=_PASSWORD)
    new_password = PasswordField(_l("New password"), validators=_PASSWORD)
    submit = SubmitField(_l("Change the password"))


class EmailForm(FlaskForm):
    """A new email address, and the current password."""

    email = EmailField(_l("New email address"), validators=[DataRequired(), Length(max=320)])
    email_password = PasswordField(_l("Current password"), validators=_PASSWORD)
    submit = SubmitField(_l("Send a confirmation link"))


class PhoneCodeForm(FlaskForm):
    """The code a text message brought."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16)])
    submit = SubmitField(_l("Confirm the number"))


class DeleteForm(FlaskForm):
    """The password, re-entered to delete the account."""

    password = PasswordField(_l("Password"), validators=_PASSWORD)
    submit = SubmitField(_l("Delete my account"))
