"""Forms of the dashboard's users, groups and clients pages (Flask-WTF, so every post
carries a CSRF token).

The forms bound what a browser may send and turn it into the services' arguments;
the rules themselves (names, URIs, scopes, who may do what) stay in the services,
whose refusals ``show_refusal`` puts next to the field they name.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from marshmallow import ValidationError as MarshmallowError
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.validators import ValidationError as FieldError

from app.accounts import service as accounts
from app.clients import service as clients_service
from app.clients.service import URI_LENGTH, ClientError, check_uri
from app.errors import DomainError, NotFound
from app.models import Account, Group, Role
from app.models.clients import AUTH_METHODS, GRANT_TYPES
from app.pagination import Cursor
from config import SIGNUP_MODES

#: Group and role names are at most this long (the column's length).
NAME_LENGTH = 64
#: Most URIs of one kind a client may list (as the admin API allows).
MAX_URIS = 50
#: The models behind the ``groups`` and ``roles`` URL segments and forms.
KINDS: dict[str, type[Group] | type[Role]] = {"groups": Group, "roles": Role}


def read_cursor(value: str | None) -> int | None:
    """The key an earlier page's cursor continues after (the admin API's cursors);
    ValueError for anything that is not one."""
    if not value:
        return None
    try:
        return Cursor().deserialize(value)
    except MarshmallowError:
        raise ValueError("not a cursor from an earlier page") from None


def show_refusal(form: FlaskForm, exc: DomainError) -> int:
    """Put a service's refusal next to the field it names (else above the form) and
    return the status to answer with: a name typed into a form that matches nothing
    is bad input (400), not a missing page."""
    field = exc.extra.get("field")
    if field in form:
        form[field].errors = [*form[field].errors, exc.description]
    else:
        form.form_errors.append(exc.description)
    return 400 if isinstance(exc, NotFound) else exc.status


def _cursor(form: FlaskForm, field: Field) -> None:
    try:
        read_cursor(field.data)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _lines(text: str | None) -> list[str]:
    """The non-empty lines of a text area, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _uris(form: FlaskForm, field: Field) -> None:
    """At most MAX_URIS lines, each one a URI the clients service accepts."""
    uris = _lines(field.data)
    if len(uris) > MAX_URIS:
        raise FieldError(f"at most {MAX_URIS} URIs")
    for uri in uris:
        _uri(uri)


def _one_uri(form: FlaskForm, field: Field) -> None:
    if field.data and field.data.strip():
        _uri(field.data.strip())


def _uri(uri: str) -> None:
    try:
        check_uri(uri, allow_http=clients_service.policy()["allow_http"])
    except ClientError as exc:
        raise FieldError(exc.description) from None


# -- users -----------------------------------------------------------------------------


def person_label(account: Account) -> str:
    """How pages and messages name a person: their email, else phone number, else sub."""
    return account.email or account.phone_number or account.sub


class UserSearchForm(FlaskForm):
    """The users list's filters, read from the query string (a GET form)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    group = StringField("Group", validators=[Optional(), Length(max=NAME_LENGTH)])
    role = StringField("Role", validators=[Optional(), Length(max=NAME_LENGTH)])
    disabled = SelectField(
        "State",
        choices=[
            SelectChoice("", "dash.users.any_state"),
            SelectChoice("no", "dash.users.enabled"),
            SelectChoice("yes", "dash.users.disabled"),
        ],
        default="",
    )
    cursor = HiddenField(validators=[Optional(), _cursor])

    def filters(self) -> accounts.AccountFilters:
        """The search criteria for ``accounts.search``."""
        return accounts.AccountFilters(
            q=(self.q.data or "").strip() or None,
            group=(self.group.data or "").strip() or None,
            role=(self.role.data or "").strip() or None,
            disabled={"yes": True, "no": False}.get(self.disabled.data),
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for the next page's link)."""
        values = {"q": self.q.data, "group": self.group.data, "role": self.role.data}
        values["disabled"] = self.disabled.data
        return {key: value for key, value in values.items() if value}


class MembershipForm(FlaskForm):
    """A group or role to add a person to (or take them out of)."""

    kind = SelectField(choices=[SelectChoice(k) for k in KINDS], validators=[InputRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_LENGTH)])


class PasswordLinkForm(FlaskForm):
    """A set-password link: its language and lifetime, emailed or shown here."""

    lang = SelectField("Language")
    expires_in = SelectField(
        "Valid for",
        choices=[
            SelectChoice("", "dash.users.link_default_lifetime"),
            SelectChoice(str(24 * 3600), "dash.users.link_1_day"),
            SelectChoice(str(7 * 24 * 3600), "dash.users.link_7_days"),
            SelectChoice(str(30 * 24 * 3600), "dash.users.link_30_days"),
        ],
        default="",
    )
    email_link = SubmitField("Email the link")
    show_link = SubmitField("Show the link here")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = [
            SelectChoice(lang, f"dash.lang.{lang}") for lang in current_app.config["UI_LOCALES"]
        ]
        if self.lang.data is None:
            self.lang.data = current_app.config["DEFAULT_LANG"]

    @property
    def notify(self) -> bool:
        """Email the link, unless the person asked to see it instead."""
        return not self.show_link.data

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``password_links.issue_set_link``."""
        expires_in = int(self.expires_in.data) if self.expires_in.data else None
        return {"expires_in": expires_in, "notify": self.notify, "lang": self.lang.data}


class ConfirmForm(FlaskForm):
    """A confirmation button (disable, enable, rotate a secret)."""

    confirm = SubmitField("Confirm")


# -- groups and roles ------------------------------------------------------------------


class NameForm(FlaskForm):
    """A group's new name."""

    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_LENGTH)])


class NewGroupForm(NameForm):
    """A new group or role."""

    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("groups", "dash.groups.a_group"),
            SelectChoice("roles", "dash.groups.a_role"),
        ],
        default="groups",
    )


class MemberForm(FlaskForm):
    """The person to add to a group or role, by email or ``sub``."""

    who = StringField("Email or sub", validators=[DataRequired(), Length(max=320)])

    def account(self):
        """The account named; AccountError on the ``who`` field when none is."""
        who = self.who.data.strip()
        account = accounts.find_by_email(who) if "@" in who else None
        if account is None:
            try:
                account = accounts.find(who)
            except accounts.AccountNotFound:
                raise accounts.AccountError(
                    "no account has this email or sub", field="who"
                ) from None
        return account


# -- clients ---------------------------------------------------------------------------


class ClientSettingsForm(FlaskForm):
    """What an administrator may change on a client (the service's UPDATABLE)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=128)])
    redirect_uris = TextAreaField(
        "Redirect URIs", validators=[Length(max=MAX_URIS * (URI_LENGTH + 2)), _uris]
    )
    post_logout_redirect_uris = TextAreaField(
        "Post-logout redirect URIs", validators=[Length(max=MAX_URIS * (URI_LENGTH + 2)), _uris]
    )
    initiate_login_uri = StringField(
        "Initiate login URI", validators=[Optional(), Length(max=URI_LENGTH), _one_uri]
    )
    scope = SelectMultipleField("Scopes", default=["openid", "profile", "email"])
    first_party = BooleanField("First-party")
    require_pkce = BooleanField("Require PKCE", default=True)
    signup_mode = SelectField(
        "Sign-up mode",
        choices=[
            SelectChoice("", "dash.clients.signup_global"),
            *(SelectChoice(mode, f"dash.clients.signup_{mode}") for mode in SIGNUP_MODES),
        ],
        default="",
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
        }


class NewClientForm(ClientSettingsForm):
    """A new client: its settings, plus what cannot change later."""

    client_id = StringField(
        "Client ID",
        validators=[Optional(), Regexp(r"^[A-Za-z0-9._~-]{1,64}$", message="dash.clients.bad_id")],
    )
    auth_method = SelectField(
        "Client type",
        choices=[SelectChoice(method, f"dash.clients.auth_{method}") for method in AUTH_METHODS],
        default=AUTH_METHODS[0],
    )
    grant_types = SelectMultipleField(
        "Grant types",
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
