"""What a caller may set on a new invitation (``InvitationInput``) and the rules it must
meet (spec §3.1): each refusal is an InvalidInvitation naming its field. Reads the
database (clients, groups, roles) but writes nothing; creation.py stores the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.errors import AccountError
from app.accounts.groups import BUILT_IN_ROLES
from app.accounts.validation import json_object, normalise_email, normalise_phone, resolve_names
from app.extensions import db
from app.invitations import catalog, links
from app.invitations.errors import InvalidInvitation
from app.models import Client, Group, Role

#: Shortest ``expires_in`` accepted (seconds).
MIN_LIFETIME = 60
NAME_LENGTH = 128


@dataclass
class InvitationInput:
    """What a caller may set when creating an invitation (spec §3.1)."""

    email: str | None = None
    mobile_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    client_id: str | None = None
    redirect_url: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    public_metadata: dict[str, Any] = field(default_factory=dict)
    allow_same_email: bool = False
    #: The caller vouches that the email is the person's (the edge checks the right).
    email_verified: bool = False
    template_key: str | None = None
    lang: str | None = None
    notify: bool = True
    expires_in: int | None = None
    #: The address belongs to an account, which the invitation is for (the API's
    #: ``existing_account: "join"``): the person signs in to accept it (issue 15).
    existing_account: bool = False


def validated(data: InvitationInput, accept_languages: list[str], now: datetime) -> dict[str, Any]:
    """The new invitation's column values from ``data``, or InvalidInvitation naming the
    field refused; ``pending_key`` is what the unique pending index compares."""
    email = _email(data.email)
    mobile = _mobile(data.mobile_number)
    if not email and not mobile:
        raise InvalidInvitation("email", "an email or a mobile_number is required")
    client = _client(data.client_id)
    template_key = data.template_key or current_app.config["DEFAULT_TEMPLATE_KEY"]
    if template_key not in catalog.template_keys():
        raise InvalidInvitation("template_key", f"unknown template key {template_key!r}")
    if data.allow_same_email and not email:
        raise InvalidInvitation("allow_same_email", "needs an email to fix")
    if data.email_verified and not email:
        raise InvalidInvitation("email_verified", "needs an email to vouch for")
    if data.existing_account and not email:
        # The invited person signs in with it (app/invitations/joining.py).
        raise InvalidInvitation("existing_account", "needs the email of the account")
    roles = _named(Role, "roles", data.roles)
    bound = _binds_to_email(roles, email)
    return {
        "email": email,
        "mobile_number": mobile,
        "given_name": _name("given_name", data.given_name),
        "family_name": _name("family_name", data.family_name),
        "client": client,
        "redirect_url": _redirect_url(data.redirect_url, client),
        "groups": _named(Group, "groups", data.groups),
        "roles": roles,
        "custom_fields": _json_object("custom_fields", data.custom_fields),
        "public_metadata": _json_object("public_metadata", data.public_metadata),
        "allow_same_email": bool(data.allow_same_email or bound),
        "email_verified": bool(data.email_verified),
        "existing_account": bool(data.existing_account),
        "template_key": template_key,
        **_lang(template_key, data.lang, accept_languages),
        "notify": bool(data.notify),
        "expires_at": now + timedelta(seconds=_lifetime(data.expires_in)),
        "pending_key": _pending_key(email or mobile, client),
    }


def _binds_to_email(roles: list[Role], email: str | None) -> bool:
    """Whether ``roles`` include a built-in one, which binds the invitation to its email
    (only that person may take admin powers); without an email that is refused."""
    built_in = sorted(role.name for role in roles if role.name in BUILT_IN_ROLES)
    if built_in and not email:
        raise InvalidInvitation(
            "email",
            f"an invitation granting the built-in role {', '.join(built_in)} needs an "
            "email to bind to",
        )
    return bool(built_in)


def _email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_email(value)
    except AccountError as exc:
        raise InvalidInvitation("email", str(exc)) from None


def _mobile(value: str | None) -> str | None:
    try:
        return normalise_phone(value)
    except AccountError:
        raise InvalidInvitation(
            "mobile_number", "must be an E.164 number such as +4915112345678"
        ) from None


def _name(field_name: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > NAME_LENGTH:
        raise InvalidInvitation(field_name, f"at most {NAME_LENGTH} characters")
    if value is not None and "\x00" in value:
        raise InvalidInvitation(field_name, "must not contain NUL characters")
    return value


def _client(client_id: str | None) -> Client | None:
    if not client_id:
        return None
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise InvalidInvitation("client_id", f"unknown client {client_id!r}")
    if not client.initiate_login_uri:
        raise InvalidInvitation("client_id", "the client has no initiate_login_uri registered")
    return client


def _redirect_url(url: str | None, client: Client | None) -> str | None:
    if not url:
        return None
    if client is not None:
        raise InvalidInvitation("redirect_url", "only for invitations without a client")
    if not links.redirect_allowed(url):
        raise InvalidInvitation("redirect_url", "not on the configured allow-list")
    return url


def _named(model, field_name: str, names: list[str]) -> list:
    return _as_invalid(field_name, resolve_names, model, field_name, names)


def _json_object(field_name: str, value: dict | None) -> dict:
    return _as_invalid(field_name, json_object, field_name, value)


def _as_invalid(field_name: str, check, *args):
    """Run an account-side validator, reporting its refusal as an invitation field error."""
    try:
        return check(*args)
    except AccountError as exc:
        raise InvalidInvitation(field_name, exc.description, prefixed=False) from None


def _lang(template_key: str, lang: str | None, accept_languages: list[str]) -> dict[str, Any]:
    """``lang`` and whether it was chosen: given, else the first of ``accept_languages``
    with a template, else the default (not chosen: pages follow the invitee's browser)."""
    available = catalog.languages(template_key)
    if lang:
        if lang not in available:
            raise InvalidInvitation("lang", f"no {template_key!r} template in {lang!r}")
        return {"lang": lang, "lang_chosen": True}
    for candidate in accept_languages:
        if candidate in available:
            return {"lang": candidate, "lang_chosen": True}
    default = current_app.config["DEFAULT_LANG"]
    return {"lang": default if default in available else sorted(available)[0], "lang_chosen": False}


def _lifetime(expires_in: int | None) -> int:
    if expires_in is None:
        return current_app.config["INVITATION_LIFETIME"]
    maximum = current_app.config["INVITATION_MAX_LIFETIME"]
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise InvalidInvitation("expires_in", "must be a whole number of seconds")
    if not MIN_LIFETIME <= expires_in <= maximum:
        raise InvalidInvitation("expires_in", f"must be between {MIN_LIFETIME} and {maximum}")
    return expires_in


def _pending_key(address: str, client: Client | None) -> str:
    return f"{address}|{client.client_id if client else '-'}"
