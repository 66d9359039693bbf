"""Forms of the dashboard's users and groups pages, and what every section's forms
share (Flask-WTF, so every post carries a CSRF token; the clients' forms are in
app/dashboard/client_forms.py).

The forms bound what a browser may send and turn it into the services' arguments;
the rules themselves (names, who may do what) stay in the services, whose refusals
``show_refusal`` puts next to the field they name.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from app.accounts import service as accounts
from app.dashboard import labels
from app.errors import DomainError, NotFound
from app.models import Account, Group, Role
from app.pagination import InvalidCursor, decode_cursor
from app.web.refusals import refusal_text

#: Group and role names are at most this long (the column's length).
NAME_LENGTH = 64
#: The models behind the ``groups`` and ``roles`` URL segments and forms.
KINDS: dict[str, type[Group] | type[Role]] = {"groups": Group, "roles": Role}


def read_cursor(list_name: str, value: str | None) -> Any:
    """Where an earlier page's cursor of the list ``list_name`` continues (the admin
    API's cursors); ValueError for anything that is not one."""
    try:
        return decode_cursor(list_name, value)
    except InvalidCursor as exc:
        raise ValueError(exc.description) from None


def show_refusal(form: FlaskForm, exc: DomainError) -> int:
    """Put a service's refusal next to the field it names (else above the form) and
    return the status to answer with: a name typed into a form that matches nothing
    is bad input (400), not a missing page."""
    field = exc.extra.get("field")
    if field in form:
        form[field].errors = [*form[field].errors, refusal_text(exc.description)]
    else:
        form.form_errors.append(refusal_text(exc.description))
    return 400 if isinstance(exc, NotFound) else exc.status


def _users_cursor(form: FlaskForm, field: Field) -> None:
    try:
        read_cursor("users", field.data)
    except ValueError as exc:
        raise FieldError(refusal_text(str(exc))) from None


# -- users -----------------------------------------------------------------------------


def person_label(account: Account) -> str:
    """How pages and messages name a person: their email, else phone number, else sub."""
    return account.email or account.phone_number or account.sub


class UserSearchForm(FlaskForm):
    """The users list's filters, read from the query string (a GET form)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    group = StringField(_l("Group"), validators=[Optional(), Length(max=NAME_LENGTH)])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=NAME_LENGTH)])
    disabled = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("no", _l("Enabled")),
            SelectChoice("yes", _l("Disabled")),
        ],
        default="",
    )
    cursor = HiddenField(validators=[Optional(), _users_cursor])

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
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH)])


class PasswordLinkForm(FlaskForm):
    """A set-password link: its language and lifetime, emailed or shown here."""

    lang = SelectField(_l("Language"))
    expires_in = SelectField(
        _l("Valid for"),
        choices=[
            SelectChoice("", _l("The default time")),
            SelectChoice(str(24 * 3600), _l("1 day")),
            SelectChoice(str(7 * 24 * 3600), _l("7 days")),
            SelectChoice(str(30 * 24 * 3600), _l("30 days")),
        ],
        default="",
    )
    email_link = SubmitField(_l("Email the link"))
    show_link = SubmitField(_l("Show the link here"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = [
            SelectChoice(lang, labels.language(lang)) for lang in current_app.config["UI_LOCALES"]
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

    confirm = SubmitField(_l("Confirm"))


# -- groups and roles ------------------------------------------------------------------


class NameForm(FlaskForm):
    """A group's new name."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH)])


class NewGroupForm(NameForm):
    """A new group or role."""

    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("groups", _l("Group")),
            SelectChoice("roles", _l("Role")),
        ],
        default="groups",
    )


class MemberForm(FlaskForm):
    """The person to add to a group or role, by email or ``sub``."""

    who = StringField(_l("Email or sub"), validators=[DataRequired(), Length(max=320)])

    def account(self):
        """The account named; AccountError on the ``who`` field when none is."""
        who = self.who.data.strip()
        account = accounts.find_by_email(who) if "@" in who else None
        if account is None:
            try:
                account = accounts.find(who)
            except accounts.AccountNotFound:
                raise accounts.AccountError(
                    _l("no account has this email or sub"), field="who"
                ) from None
        return account
