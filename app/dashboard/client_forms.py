"""Forms of the dashboard's clients pages: a client's settings, and a new client's.

They bound what a browser may send; the rules on URIs, scopes and grant types stay in
the clients service (app/clients/service.py), whose refusals ``show_refusal`` puts
next to the field they name.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.validators import ValidationError as FieldError

from app.clients import service as clients_service
from app.clients.service import URI_LENGTH, ClientError, check_uri
from app.dashboard import labels
from app.models.clients import AUTH_METHODS, GRANT_TYPES
from app.web.refusals import refusal_text
from config import SIGNUP_MODES

#: Most URIs of one kind a client may list (as the admin API allows).
MAX_URIS = 50


def _lines(text: str | None) -> list[str]:
    """The non-empty lines of a text area, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _uris(form: FlaskForm, field: Field) -> None:
    """At most MAX_URIS lines, each one a URI the clients service accepts."""
    uris = _lines(field.data)
    if len(uris) > MAX_URIS:
        raise FieldError(_l("at most %(max)s URIs", max=MAX_URIS))
    for uri in uris:
        _uri(uri)


def _one_uri(form: FlaskForm, field: Field) -> None:
    if field.data and field.data.strip():
        _uri(field.data.strip())


def _uri(uri: str) -> None:
    try:
        check_uri(uri, allow_http=clients_service.policy()["allow_http"])
    except ClientError as exc:
        raise FieldError(refusal_text(exc.description)) from None


class ClientSettingsForm(FlaskForm):
    """What an administrator may change on a client (the service's UPDATABLE)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    redirect_uris = TextAreaField(
        _l("Redirect URIs"), validators=[Length(max=MAX_URIS * (URI_LENGTH + 2)), _uris]
    )
    post_logout_redirect_uris = TextAreaField(
        _l("Post-logout redirect URIs"), validators=[Length(max=MAX_URIS * (URI_LENGTH + 2)), _uris]
    )
    initiate_login_uri = StringField(
        _l("Initiate login URI"), validators=[Optional(), Length(max=URI_LENGTH), _one_uri]
    )
    scope = SelectMultipleField(_l("Scopes"), default=["openid", "profile", "email"])
    first_party = BooleanField(_l("First-party"))
    require_pkce = BooleanField(_l("Require PKCE"), default=True)
    signup_mode = SelectField(
        _l("Sign-up mode"),
        choices=[
            SelectChoice("", _l("Follow the server's setting")),
            *(SelectChoice(mode, labels.SIGNUP_MODES[mode]) for mode in SIGNUP_MODES),
        ],
        default="",
    )
    mfa = SelectField(
        _l("Two-step sign-in"),
        choices=[SelectChoice(policy, label) for policy, label in labels.MFA_POLICIES.items()],
        default="off",
        # Left out (a form of before issue 16): the client keeps its setting.
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = [SelectChoice(s) for s in current_app.config["OAUTH_SCOPES"]]

    @classmethod
    def data_of(cls, client) -> dict[str, Any]:
        """A client's settings as the form shows them."""
        return {
            "name": client.name,
            "redirect_uris": "\n".join(client.redirect_uris),
            "post_logout_redirect_uris": "\n".join(client.post_logout_redirect_uris),
            "initiate_login_uri": client.initiate_login_uri or "",
            "scope": client.allowed_scopes,
            "first_party": client.first_party,
            "require_pkce": client.require_pkce,
            "signup_mode": client.signup_mode or "",
            "mfa": client.mfa,
        }

    def settings(self) -> dict[str, Any]:
        """The submitted settings, as ``update_client`` takes them."""
        return {
            "name": self.name.data.strip(),
            "redirect_uris": _lines(self.redirect_uris.data),
            "post_logout_redirect_uris": _lines(self.post_logout_redirect_uris.data),
            "initiate_login_uri": (self.initiate_login_uri.data or "").strip() or None,
            "scope": " ".join(self.scope.data),
            "first_party": self.first_party.data,
            "require_pkce": self.require_pkce.data,
            "signup_mode": self.signup_mode.data or None,
            **({"mfa": self.mfa.data} if self.mfa.data else {}),
        }


class NewClientForm(ClientSettingsForm):
    """A new client: its settings, plus what cannot change later."""

    client_id = StringField(
        _l("Client ID"),
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z0-9._~-]{1,64}$",
                message=_l("Letters, digits, '.', '_', '~' or '-'; at most 64."),
            ),
        ],
    )
    auth_method = SelectField(
        _l("Client type"),
        choices=[SelectChoice(method, labels.AUTH_METHODS[method]) for method in AUTH_METHODS],
        default=AUTH_METHODS[0],
    )
    grant_types = SelectMultipleField(
        _l("Grant types"),
        choices=[SelectChoice(grant) for grant in GRANT_TYPES],
        default=["authorization_code", "refresh_token"],
        validators=[InputRequired()],
    )

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``create_client`` (besides the URI and scope policy)."""
        values = self.settings()
        values.pop("name")
        values.pop("redirect_uris")
        return {
            **values,
            "client_id": (self.client_id.data or "").strip() or None,
            "auth_method": self.auth_method.data,
            "grant_types": self.grant_types.data,
        }
