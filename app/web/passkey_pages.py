"""What pages need to offer passkeys (issue 16): the forms, the script's CSP sources,
and the template context of the sign-in and registration pages. The routes are in
app/web/passkeys.py."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts import passkeys
from app.errors import DomainError
from app.security import allow_page_sources
from app.web.refusals import refusal_text

#: The longest credential JSON a form may carry (the service checks it again).
CREDENTIAL_LENGTH = passkeys.MAX_CREDENTIAL_JSON


class AddPasskeyForm(FlaskForm):
    """The account page's "add a passkey": its name, and the browser's answer."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=passkeys.NAME_LENGTH)])
    credential = HiddenField(validators=[Length(max=CREDENTIAL_LENGTH)])
    submit = SubmitField(_l("Add a passkey"))


class RenamePasskeyForm(FlaskForm):
    """A passkey's new name."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=passkeys.NAME_LENGTH)])
    submit = SubmitField(_l("Rename"))


class PasskeyAssertionForm(FlaskForm):
    """A sign-in with a passkey: the browser's answer to our challenge."""

    credential = HiddenField(validators=[DataRequired(), Length(max=CREDENTIAL_LENGTH)])


def allow_passkey_script() -> None:
    """Let this page run app/static/passkeys.js and fetch its options from us."""
    allow_page_sources("script-src", "'self'")
    allow_page_sources("connect-src", "'self'")


def sign_in_page_context(action: str, error: str | None = None) -> dict:
    """What templates/web/sign_in.html needs for its passkey button (posting to
    ``action``); the page may then run the script."""
    allow_passkey_script()
    return {"passkey_action": action, "passkey_error": error}


def registration_credentials() -> str:
    """``password``, ``passkey`` or ``both``: what the registration page offers."""
    return current_app.config["REGISTRATION_CREDENTIALS"]


def registration_page_context() -> dict:
    """What templates/web/register.html needs to offer a passkey (and the script)."""
    offered = registration_credentials()
    if offered != "password":
        allow_passkey_script()
    return {
        "offer_password": offered != "passkey",
        "offer_passkey": offered != "password",
    }


def sign_in_failure(exc: DomainError) -> str:
    """A refused passkey sign-in, as the page says it."""
    return refusal_text(exc.description)


#: The registration form's field for the passkey made by the script.
REGISTRATION_FIELD = "passkey_credential"


def submitted_passkey(form) -> str | None:
    """The passkey answer posted with the registration form, if any: the password is
    not asked for then (only this form instance's validators change)."""
    credential = request.form.get(REGISTRATION_FIELD)
    if not credential:
        return None
    form.password.validators = [Optional()]
    return credential


def verified_passkey(credential: str | None) -> passkeys.NewPasskey | None:
    """The checked passkey of a registration (PasskeyRefused when it does not pass)."""
    return passkeys.verify_registration(credential) if credential else None


def passkey_name() -> str:
    """The name a passkey made while registering gets: the browser and system it was
    made on ("Chrome · Linux"), which the person can change on the account page."""
    from app.web.account.page import browser_label  # the account page imports this module

    return browser_label(request.user_agent.string)[: passkeys.NAME_LENGTH]
