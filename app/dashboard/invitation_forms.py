"""The invitation section's forms. They collect what the person typed and turn it into
the service's input; what makes an invitation valid (addresses, names, clients,
groups, templates, lifetimes) is decided by app/invitations/validation.py alone, whose
refusals are shown next to the field they name."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import NumberInput

from app.accounts import groups as named
from app.clients.service import list_clients
from app.dashboard import labels
from app.errors import DomainError
from app.invitations import catalog, queries, states
from app.invitations.validation import InvitationInput
from app.models import Group, Role
from app.pagination import decode_cursor
from app.web.refusals import refusal_text

#: Most groups or roles offered as checkboxes (more would not be usable as a list).
CHOICES_LIMIT = 500
DAY = 24 * 3600
#: The list the invitation page's cursors name: newest first, as the API's default sort.
LISTED_AS = queries.listed_as(queries.DEFAULT_SORT)


def _names(model: type[Group] | type[Role]) -> list[str]:
    return sorted(row.name for row in named.list_all(model, limit=CHOICES_LIMIT).items)


def _choice_list(values: list[str], blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank), *(SelectChoice(value) for value in values)]


class InvitationFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(render_kw={"maxlength": 200})
    state = SelectField(validate_choice=False)
    client_id = SelectField(validate_choice=False)
    group = SelectField(validate_choice=False)

    def __init__(self, formdata):
        super().__init__(formdata=formdata)
        state_names = sorted(states.STATES)
        self.state.choices = [
            SelectChoice("", _("Any state")),
            *(SelectChoice(s, labels.STATES[s]) for s in state_names),
        ]
        self.client_id.choices = [
            SelectChoice("", _("Any client")),
            *(SelectChoice(c.client_id, f"{c.name} ({c.client_id})") for c in list_clients()),
        ]
        self.group.choices = _choice_list(_names(Group), _("Any group"))

    def filters(self) -> dict[str, str]:
        """The filters given, as query parameters (for the next page's link)."""
        return {
            name: value
            for name in ("q", "state", "client_id", "group")
            if (value := self[name].data)
        }

    def criteria(self, cursor: str | None, limit: int) -> queries.Search:
        """The search these filters ask for, continuing where ``cursor`` says
        (InvalidCursor for one this list did not issue)."""
        text = (self.q.data or "").strip()[:200] or None
        values = {k: v for k, v in self.filters().items() if k != "q"}
        after = decode_cursor(LISTED_AS, cursor)
        return queries.Search(q=text, after=after, limit=limit, **values)


class InviteForm(FlaskForm):
    """One invitation (spec §3.1). Empty fields are left to the service's defaults."""

    email = EmailField(render_kw={"autocomplete": "off"})
    mobile_number = TelField(render_kw={"autocomplete": "off"})
    given_name = StringField()
    family_name = StringField()
    client_id = SelectField(validate_choice=False)
    groups = SelectMultipleField(validate_choice=False)
    roles = SelectMultipleField(validate_choice=False)
    redirect_url = URLField()
    allow_same_email = BooleanField()
    existing_account = BooleanField()
    lang = SelectField(validate_choice=False)
    template_key = SelectField(validate_choice=False)
    notify = BooleanField(default=True)
    expires_in_days = StringField(widget=NumberInput(min=1, step=1))
    custom_fields = TextAreaField(render_kw={"rows": 3, "spellcheck": "false"})
    public_metadata = TextAreaField(render_kw={"rows": 3, "spellcheck": "false"})

    #: The service's field names that this form names differently.
    FIELD_OF = {"expires_in": "expires_in_days"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("template_key", current_app.config["DEFAULT_TEMPLATE_KEY"])
        super().__init__(*args, **kwargs)
        usable = [c for c in list_clients() if c.initiate_login_uri]
        self.client_id.choices = [
            SelectChoice("", _("None: register on Vestibule")),
            *(SelectChoice(c.client_id, f"{c.name} ({c.client_id})") for c in usable),
        ]
        self.groups.choices = [SelectChoice(name) for name in _names(Group)]
        self.roles.choices = [SelectChoice(name) for name in _names(Role)]
        keys = sorted(catalog.template_keys())
        languages = sorted(set().union(*(catalog.languages(key) for key in keys)))
        self.lang.choices = [
            # Automatic: the invitee's browser, when they open the link (messages go
            # out in DEFAULT_LANG).
            SelectChoice("", _("Automatic")),
            *(SelectChoice(code, labels.language(code)) for code in languages),
        ]
        self.template_key.choices = [SelectChoice(key) for key in keys]

    @property
    def max_days(self) -> int:
        """The longest lifetime the service accepts, in whole days."""
        return current_app.config["INVITATION_MAX_LIFETIME"] // DAY

    def validate_expires_in_days(self, field) -> None:
        """A whole number of days within the service's bounds (shown in days, not seconds)."""
        text = (field.data or "").strip()
        whole = text.isascii() and text.isdigit() and len(text) <= 6
        if text and not (whole and 1 <= int(text) <= self.max_days):
            raise ValidationError(
                _("A whole number of days from 1 to %(max)s.", max=str(self.max_days))
            )

    def validate_custom_fields(self, field) -> None:
        """JSON object text (its content is the service's to judge)."""
        _json_object_text(field.data)

    def validate_public_metadata(self, field) -> None:
        """JSON object text (its content is the service's to judge)."""
        _json_object_text(field.data)

    def invitation_input(self) -> InvitationInput:
        """What the service gets; call after ``validate``."""
        text = {
            name: (self[name].data or "").strip() or None
            for name in ("email", "mobile_number", "given_name", "family_name", "redirect_url")
        }
        days = (self.expires_in_days.data or "").strip()
        return InvitationInput(
            **text,
            client_id=self.client_id.data or None,
            groups=list(self.groups.data or []),
            roles=list(self.roles.data or []),
            custom_fields=_json_object_text(self.custom_fields.data),
            public_metadata=_json_object_text(self.public_metadata.data),
            allow_same_email=self.allow_same_email.data,
            existing_account=self.existing_account.data,
            template_key=self.template_key.data or None,
            lang=self.lang.data or None,
            notify=self.notify.data,
            expires_in=int(days) * DAY if days else None,
        )

    def show_refusal(self, exc: DomainError) -> None:
        """Put the service's refusal next to the field it names, or above the form."""
        name = exc.extra.get("field")
        target = self._fields.get(self.FIELD_OF.get(name, name)) if name else None
        if target is None:
            self.form_errors.append(refusal_text(exc.description))
            return
        prefix = f"{name}: "
        message = exc.description.removeprefix(prefix)
        target.errors = [*target.errors, refusal_text(message)]


def _json_object_text(text: str | None) -> dict[str, Any]:
    """The JSON object typed in a text area ({} when empty); ValidationError otherwise."""
    if not (text or "").strip():
        return {}
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValidationError(_('This must be a JSON object, e.g. {"plan": "pro"}.')) from None
    except ValueError as exc:
        where = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        raise ValidationError(
            _(
                "This is not valid JSON (line %(line)s, column %(column)s).",
                line=str(where[0] or 1),
                column=str(where[1] or 1),
            )
        ) from None
    if not isinstance(value, dict):
        raise ValidationError(_('This must be a JSON object, e.g. {"plan": "pro"}.'))
    return value


class BulkUploadForm(FlaskForm):
    """Step 1 of a bulk upload: the CSV file to preview."""

    file = FileField(render_kw={"accept": ".csv,text/csv"})


class BulkCreateForm(FlaskForm):
    """Step 2: the previewed file, signed when it was previewed, to create."""

    payload = HiddenField()


class LinkDownloadForm(FlaskForm):
    """The results page's button that downloads the links once: the export's secret id."""

    export = HiddenField()


class ConfirmForm(FlaskForm):
    """ "Are you sure?" for resend and revoke: only the CSRF token."""
