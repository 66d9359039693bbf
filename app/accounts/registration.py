"""Registration (spec §2 step 6, §3.5): through an invitation, or self-service.

One transaction accepts the invitation, creates the account with the invitation's
groups, roles, custom fields and public metadata, and records the events. The
invitation is accepted first: its row is then locked, so of concurrent submits one
creates the account and the others get ``InvitationUnusable``.

Verified means verified (issue 10): the invited email or number is marked verified
only when Vestibule delivered the invitation there, or when its creator vouched for
the email; anyone may hold a link handed over by other means. An email not verified
so, and every self-service registration's (issue 15), gets a verification link in the
same transaction.

``refusal`` decides, before any form is shown or submitted, whether this person may
register here at all: the sign-up mode (global, or the client's own) and the
invitation's state and client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from app import events
from app.accounts import passkeys, verification
from app.accounts.errors import AccountError
from app.accounts.passwords import hash_password
from app.accounts.service import AccountInput, create
from app.accounts.validation import (
    check_password_policy,
    clean_name,
    json_object,
    normalise_email,
    normalise_phone,
    refuse_taken,
    taken_is_conflict,
)
from app.errors import Conflict
from app.extensions import db
from app.invitations import service as invitations
from app.invitations import states
from app.invitations.errors import InvalidTransition
from app.models import Account, Client, Invitation
from app.models.accounts import new_sub

PUBLIC, RESTRICTED, CLOSED = "public", "restricted", "closed"
#: The actor recorded when the invited person declines.
INVITEE = "invitee"
#: The actor recorded for a self-service registration.
SELF_SERVICE = "self-service"
#: The refusal of registering with an invitation for an existing account (issue 15).
FOR_EXISTING_ACCOUNT = "this invitation is for an existing account: sign in to accept it"


class InvitationUnusable(Conflict):
    """The invitation was accepted, revoked, declined or has expired (409)."""

    code = "invitation_unusable"


@dataclass
class Registration:
    """What the registering person submits: a password, or a passkey checked by the
    registration ceremony (app/accounts/passkeys.py) and the name to give it."""

    password: str | None
    email: str | None = None
    phone_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    passkey: passkeys.NewPasskey | None = None
    passkey_name: str = "Passkey"


def signup_mode(client: Client | None) -> str:
    """``public``, ``restricted`` or ``closed``: the client's own, else the global one."""
    own = client.signup_mode if client is not None else None
    return own or current_app.config["SIGNUP_MODE"]


def refusal(client: Client | None, invitation: Invitation | None, token_sent: bool) -> str | None:
    """Why registration cannot go ahead, or None when it can.

    Reasons: ``signup_closed``, ``signup_restricted`` (no invitation where one is
    needed), ``invite_unknown`` (a token that matches nothing), ``invite_other_client``,
    and ``invite_<state>`` for an accepted, expired, revoked or rejected invitation.
    """
    mode = signup_mode(client)
    if mode == CLOSED:
        return "signup_closed"
    if not token_sent:
        return None if mode == PUBLIC else "signup_restricted"
    return invitation_refusal(client, invitation)


def invitation_refusal(client: Client | None, invitation: Invitation | None) -> str | None:
    """Why this invitation cannot be used here whatever the sign-up mode, or None:
    ``invite_unknown``, ``invite_other_client`` or ``invite_<state>`` (an invitation for
    an existing account creates no account, so only this applies to it)."""
    if invitation is None:
        return "invite_unknown"
    if invitation.client_id != (client.id if client is not None else None):
        return "invite_other_client"
    state = invitations.state_of(invitation)
    return None if state in states.PENDING else f"invite_{state}"


def may_register_without_invitation(client: Client | None) -> bool:
    """Whether self-service registration is open for this client (or the hosted page)."""
    return signup_mode(client) == PUBLIC


def register_self(data: Registration, lang: str | None = None) -> Account:
    """Self-service registration (sign-up mode ``public``): an email is required and
    nothing is marked verified; the address is sent a verification link (in ``lang``)
    in the same transaction."""
    if not data.email:
        raise AccountError("an email address is required", field="email")
    check_credentials(data)
    person = AccountInput(
        email=data.email,
        password=data.password,
        phone_number=data.phone_number,
        given_name=data.given_name,
        family_name=data.family_name,
        custom_fields=data.custom_fields,
    )

    def send_verification_link(account: Account) -> None:
        _attach_passkey(account, data)
        verification.send_link(account, lang, f"account:{account.sub}")

    return create(person, actor=SELF_SERVICE, before_commit=send_verification_link)


def decline(invitation: Invitation) -> None:
    """The invited person declined on the registration page: ``rejected``, for good."""
    require_pending(invitation)
    try:
        invitations.reject(invitation, INVITEE)
    except InvalidTransition:
        db.session.rollback()
        raise InvitationUnusable("this invitation has just been used or withdrawn") from None


def register_invited(invitation: Invitation, data: Registration) -> Account:
    """Create the invited person's account and accept the invitation, atomically."""
    require_pending(invitation)
    if invitation.existing_account:
        raise InvitationUnusable(FOR_EXISTING_ACCOUNT, state="existing_account")
    email = normalise_email(data.email) if data.email else invitation.email
    if invitation.allow_same_email and email != invitation.email:
        raise AccountError("the email must be the invited address", field="email")
    phone = normalise_phone(data.phone_number) if data.phone_number else invitation.mobile_number
    if not email and not phone:
        raise AccountError("an email or a phone number is required", field="email")
    check_credentials(data)
    proven = invitations.proven_addresses(invitation)
    values = {
        "email": email,
        "email_verified": email is not None and email in proven,
        "phone_number": phone,
        "phone_number_verified": phone is not None and phone in proven,
        "given_name": clean_name("given_name", data.given_name or invitation.given_name),
        "family_name": clean_name("family_name", data.family_name or invitation.family_name),
        "custom_fields": json_object(
            "custom_fields", {**invitation.custom_fields, **(data.custom_fields or {})}
        ),
        "public_metadata": dict(invitation.public_metadata),
    }
    refuse_taken(email, phone)
    # Hash before taking the invitation's row lock: argon2 is the slow part.
    password_hash = hash_password(data.password) if data.password is not None else None
    return _accept_and_create(invitation, values, password_hash, data)


def require_pending(invitation: Invitation) -> None:
    """InvitationUnusable unless the invitation is pending (its effective state)."""
    state = invitations.state_of(invitation)
    if state not in states.PENDING:
        raise InvitationUnusable(f"this invitation is {state}", state=state)


def check_credentials(data: Registration) -> None:
    """The person signs in with what REGISTRATION_CREDENTIALS allows: a password that
    meets the policy, or a passkey not registered already (issue 16)."""
    allowed = current_app.config["REGISTRATION_CREDENTIALS"]
    if data.passkey is not None:
        if allowed == "password":
            raise AccountError("create the account with a password", field="password")
        passkeys.refuse_registered(data.passkey)
        return
    if allowed == "passkey":
        raise AccountError("create the account with a passkey", field="password")
    check_password_policy(data.password or "")


def _attach_passkey(account: Account, data: Registration) -> None:
    if data.passkey is not None:
        passkeys.attach(account, data.passkey, data.passkey_name)


def _accept_and_create(
    invitation: Invitation, values: dict, password_hash: str | None, data: Registration
) -> Account:
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
    with taken_is_conflict():
        db.session.flush()
        _attach_passkey(account, data)
        events.record("user.created", actor, invitation=invitation, sub=sub)
        if account.email and not account.email_verified:
            verification.send_link(account, invitation.lang, actor)
        db.session.commit()
    return account
