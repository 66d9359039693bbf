"""Registering through an invitation (spec §2 step 6).

One transaction accepts the invitation, creates the account with the invitation's
groups, roles, custom fields and public metadata, and records the events. The
invitation is accepted first: its row is then locked, so of concurrent submits one
creates the account and the others get ``InvitationUnusable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from app import events
from app.accounts.passwords import hash_password
from app.accounts.service import (
    AccountConflict,
    AccountError,
    check_password_policy,
    clean_name,
    json_object,
    normalise_email,
    normalise_phone,
    refuse_taken,
)
from app.errors import Conflict
from app.extensions import db
from app.invitations import service as invitations
from app.invitations import states
from app.invitations.errors import InvalidTransition
from app.models import Account, Invitation
from app.models.accounts import new_sub


class InvitationUnusable(Conflict):
    """The invitation was accepted, revoked, declined or has expired (409)."""

    code = "invitation_unusable"


@dataclass
class Registration:
    """What the registering person submits."""

    password: str
    email: str | None = None
    phone_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


def register_invited(invitation: Invitation, data: Registration) -> Account:
    """Create the invited person's account and accept the invitation, atomically."""
    _require_pending(invitation)
    email = normalise_email(data.email) if data.email else invitation.email
    if invitation.allow_same_email and email != invitation.email:
        raise AccountError("the email must be the invited address", field="email")
    phone = normalise_phone(data.phone_number) if data.phone_number else invitation.mobile_number
    if not email and not phone:
        raise AccountError("an email or a phone number is required", field="email")
    check_password_policy(data.password)
    values = {
        "email": email,
        "email_verified": email is not None and email == invitation.email,
        "phone_number": phone,
        "phone_number_verified": phone is not None and phone == invitation.mobile_number,
        "given_name": clean_name("given_name", data.given_name or invitation.given_name),
        "family_name": clean_name("family_name", data.family_name or invitation.family_name),
        "custom_fields": json_object(
            "custom_fields", {**invitation.custom_fields, **(data.custom_fields or {})}
        ),
        "public_metadata": dict(invitation.public_metadata),
    }
    refuse_taken(email, phone)
    # Hash before taking the invitation's row lock: argon2 is the slow part.
    password_hash = hash_password(data.password)
    return _accept_and_create(invitation, values, password_hash)


def _require_pending(invitation: Invitation) -> None:
    state = invitations.state_of(invitation)
    if state not in states.PENDING:
        raise InvitationUnusable(f"this invitation is {state}", state=state)


def _accept_and_create(invitation: Invitation, values: dict, password_hash: str) -> Account:
    sub = new_sub()
    actor = f"account:{sub}"
    groups, roles = list(invitation.groups), list(invitation.roles)
    try:
        invitations.accept(invitation, sub, actor)
    except InvalidTransition:
        db.session.rollback()
        raise InvitationUnusable("this invitation has just been used", state="accepted") from None
    account = Account(sub=sub, password_hash=password_hash, groups=groups, roles=roles, **values)
    db.session.add(account)
    db.session.flush()
    events.record("user.created", actor, invitation=invitation, sub=sub)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountConflict("an account with this email or phone number already exists") from None
    return account
