"""Flask-WTF forms; every one carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.accounts.fields import FieldSpec
from app.accounts.validation import MAX_PASSWORD_LENGTH, NAME_LENGTH


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    """The address to send a reset link to."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    submit = SubmitField(_l("Send the link"))


class NewPasswordForm(FlaskForm):
    """A new password, set through a reset or set-password link; the policy (length)
    is the service's."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField(_l("Save the password"))


class ConfirmEmailForm(FlaskForm):
    """The button of an email verification link's page (only its POST verifies)."""

    submit = SubmitField(_l("Confirm my email address"))


class ConsentForm(FlaskForm):
    """Allow or deny a third-party client."""

    allow = SubmitField(_l("Allow"))
    deny = SubmitField(_l("Deny"))


class LogoutForm(FlaskForm):
    """Confirm signing out; carries the RP's logout parameters through."""

    id_token_hint = HiddenField()
    client_id = HiddenField()
    post_logout_redirect_uri = HiddenField()
    state = HiddenField()
    confirm = SubmitField(_l("Sign out"))
    cancel = SubmitField(_l("Stay signed in"))


class RegistrationForm(FlaskForm):
    """The built-in registration fields; ``registration_form`` adds the configured ones.

    The password policy (length) is the service's, so the form and JSON callers get
    the same message.
    """

    email = EmailField(_l("Email"), validators=[Optional(), Length(max=320)])
    phone_number = TelField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    given_name = StringField(_l("Given name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    family_name = StringField(_l("Family name"), validators=[Optional(), Length(max=NAME_LENGTH)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField(_l("Create account"))

    def error_messages(self) -> dict[str, list[str]]:
        """Errors by field name; errors about the whole form under ``form``."""
        return {name or "form": list(messages) for name, messages in self.errors.items()}

    def custom_values(self, specs: tuple[FieldSpec, ...]) -> dict:
        """The configured fields' submitted values, as stored (empty ones left out)."""
        values = {}
        for spec in specs:
            value = self[spec.name].data
            if value is not None and value != "":
                values[spec.name] = spec.to_stored(value)
        return values


class JsonBodyError(ValueError):
    """A JSON registration body that is not a flat object of simple values."""


def registration_form(
    specs: tuple[FieldSpec, ...],
    *,
    formdata: MultiDict | None = None,
    json_body: dict | None = None,
    **prefill,
) -> RegistrationForm:
    """A registration form with the configured fields.

    A browser post fills it from ``formdata`` (the view checks CSRF first), a JSON
    post from ``json_body``, a page from ``prefill``.
    """
    form_cls = type("ConfiguredRegistrationForm", (RegistrationForm,), {})
    for spec in specs:
        setattr(form_cls, spec.name, configured_field(spec))
    if json_body is not None:
        formdata = _json_formdata(json_body)
    return form_cls(formdata=formdata, data=prefill or None, meta={"csrf": False})


def configured_field(spec: FieldSpec):
    """The form field of one configured registration field (registration, account page)."""
    presence = InputRequired() if spec.required else Optional()
    if spec.type == "number":
        return IntegerField(spec.name, validators=[presence, NumberRange(-(2**53), 2**53)])
    if spec.type == "select":
        choices = [SelectChoice("", "—"), *(SelectChoice(c) for c in spec.choices)]
        return SelectField(spec.name, choices=choices, validators=[presence])
    if spec.type == "checkbox":
        return BooleanField(spec.name, validators=[DataRequired()] if spec.required else [])
    if spec.type == "date":
        return DateField(spec.name, validators=[presence])
    return StringField(spec.name, validators=[presence, Length(max=spec.max_length)])


def _json_formdata(body: dict) -> MultiDict:
    """Form data from a JSON object whose values are strings, numbers, booleans or null."""
    items = []
    for key, value in body.items():
        if value is None or value is False:
            continue
        if value is True:
            value = "y"
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str):
            raise JsonBodyError(f"{key} must be a string, a number, a boolean or null")
        if "\x00" in value or "\x00" in key:
            raise JsonBodyError("the request contains a NUL character")
        try:
            (key + value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") in the JSON
            raise JsonBodyError(f"{key} is not valid Unicode") from None
        items.append((key, value))
    return MultiDict(items)
