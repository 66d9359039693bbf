"""Passkeys (WebAuthn credentials, issue 16): the ceremonies' options and checks, and
a person's list of passkeys.

The `webauthn` library (py_webauthn) parses and verifies everything the browser
sends (CBOR, COSE keys, signatures); this module decides the policy around it:

- the relying party is the ISSUER's host and origin unless ``WEBAUTHN_RP_ID`` (a
  parent domain) and ``WEBAUTHN_ORIGINS`` say otherwise;
- user verification is required, and discoverable credentials are preferred, so a
  passkey signs in without typing an email;
- each challenge is kept in the signed session for one ceremony of one purpose, works
  for ``WEBAUTHN_CHALLENGE_LIFETIME`` seconds, is compared in constant time and is
  spent by the first answer, good or bad (the session forgets it). The session is a
  cookie, so a sign-in also keeps the challenge's digest in the database until it
  expires: a copy of the cookie taken before the answer cannot replay that answer
  (a replayed registration finds its credential registered already);
- a sign count that does not grow past a non-zero one is refused (a cloned
  authenticator), and so is a credential id registered already.

Like app/accounts/sessions.py this module is the browser's side of a ceremony, so it
reads the Flask session; it never reads the request otherwise.

Longer than our modules usually are (about 430 lines), on purpose: both ceremonies
share the challenge, relying-party and parsing rules above, and keeping them in one
file keeps the whole WebAuthn policy reviewable in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, session
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app import events
from app.accounts.errors import AccountError
from app.crypto import new_secret
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Account, utcnow
from app.models.factors import Passkey, SpentChallenge

REGISTER, AUTHENTICATE = "register", "authenticate"
ANSWERED_ALREADY = "this passkey request was answered already; please try again"
#: ``amr`` values (RFC 8176): a key bound to one device, a key synced between devices.
HARDWARE_KEY, SOFTWARE_KEY = "hwk", "swk"
#: Longest friendly name (the column's length).
NAME_LENGTH = 64
#: Longest credential JSON accepted from a browser (a generous attestation fits).
MAX_CREDENTIAL_JSON = 64 * 1024
#: Milliseconds the browser is told it may take (a hint).
CEREMONY_TIMEOUT_MS = 120_000
_STATE = "webauthn"
#: The user handle chosen for the account a person is registering (kept until it is
#: created, so trying again replaces the authenticator's credential instead of adding
#: one beside it).
_PENDING_HANDLE = "webauthn_handle"
#: Unexpected shapes the library's parsers let through as Python errors.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError)


class PasskeyRefused(AccountError):
    """The browser's answer cannot be accepted (400): a stale or missing challenge, a
    bad signature, a wrong origin ... The message is safe to show."""

    code = "passkey_refused"


class PasskeyTaken(Conflict):
    """This credential is registered already (409)."""

    code = "passkey_taken"


class PasskeyNotFound(NotFound):
    """No such passkey among this person's."""


class LastCredential(Conflict):
    """Removing it would leave the account with no way to sign in (409)."""

    code = "last_credential"


@dataclass
class NewPasskey:
    """A credential checked by a registration ceremony, not stored yet."""

    credential_id: str
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    handle: str
    transports: list[str] = field(default_factory=list)


def rp_id() -> str:
    """The relying-party id: ``WEBAUTHN_RP_ID``, else the ISSUER's host."""
    configured = current_app.config.get("WEBAUTHN_RP_ID")
    return configured or (urlsplit(current_app.config["ISSUER"]).hostname or "localhost")


def origins() -> list[str]:
    """The origins a ceremony may come from: ``WEBAUTHN_ORIGINS``, else the ISSUER's."""
    configured = current_app.config.get("WEBAUTHN_ORIGINS") or []
    if configured:
        return list(configured)
    parts = urlsplit(current_app.config["ISSUER"])
    return [f"{parts.scheme}://{parts.netloc}"]


def amr_of(passkey: Passkey) -> list[str]:
    """The session's ``amr`` after signing in with ``passkey``."""
    return [SOFTWARE_KEY if passkey.backup_eligible else HARDWARE_KEY]


def amr_of_new(new: NewPasskey | None) -> list[str] | None:
    """The ``amr`` of a session begun by registering ``new`` (None: with a password)."""
    if new is None:
        return None
    return [SOFTWARE_KEY if new.backup_eligible else HARDWARE_KEY]


def passkeys_of(account: Account) -> list[Passkey]:
    """``account``'s passkeys, oldest first."""
    query = select(Passkey).where(Passkey.account_id == account.id).order_by(Passkey.id)
    return list(db.session.scalars(query))


# Challenges ----------------------------------------------------------------------


def _remember(purpose: str, challenge: bytes, **extra: str) -> None:
    lifetime = current_app.config["WEBAUTHN_CHALLENGE_LIFETIME"]
    states = dict(session.get(_STATE) or {})
    states[purpose] = {
        "challenge": bytes_to_base64url(challenge),
        "expires": int(time.time()) + lifetime,
        **extra,
    }
    session[_STATE] = states


def _spend(purpose: str) -> dict[str, Any]:
    """This browser's challenge for ``purpose``, forgotten as it is read."""
    states = dict(session.get(_STATE) or {})
    state = states.pop(purpose, None)
    session[_STATE] = states
    if not isinstance(state, dict) or not isinstance(state.get("challenge"), str):
        raise PasskeyRefused("the passkey request has expired; please try again")
    if int(state.get("expires", 0)) < time.time():
        raise PasskeyRefused("the passkey request has expired; please try again")
    return state


def _keep_spent(state: dict[str, Any]) -> None:
    """Record, with the sign-in it opens, that this challenge has been answered: the same
    answer again from a copy of the cookie taken before it finds the record and is
    refused (rolled back); of two at once, one insert wins."""
    row = {
        "digest": hashlib.sha256(state["challenge"].encode()).hexdigest(),
        "expires_at": datetime.fromtimestamp(int(state["expires"]), UTC),
    }
    try:
        db.session.execute(insert(SpentChallenge), row)
    except IntegrityError:
        db.session.rollback()
        raise PasskeyRefused(ANSWERED_ALREADY) from None


def _check_challenge(client_data_json: bytes, expected: bytes) -> None:
    """Compare the challenge the browser signed with ours in constant time, before the
    library compares it again (with ``!=``)."""
    try:
        signed = parse_client_data_json(client_data_json).challenge
    except _MALFORMED:
        raise PasskeyRefused("the passkey answer is malformed") from None
    if not hmac.compare_digest(signed, expected):
        raise PasskeyRefused("the passkey answer is for another request; please try again")


def _load_json(credential: str) -> dict[str, Any]:
    if not isinstance(credential, str) or not credential or len(credential) > MAX_CREDENTIAL_JSON:
        raise PasskeyRefused("the passkey answer is missing or too long")
    try:
        body = json.loads(credential)
    except (ValueError, RecursionError):
        raise PasskeyRefused("the passkey answer is malformed") from None
    if not isinstance(body, dict):
        raise PasskeyRefused("the passkey answer is malformed")
    return body


# Registration --------------------------------------------------------------------


def registration_options(user_name: str, display_name: str | None, account: Account | None) -> str:
    """Options JSON for ``navigator.credentials.create``, the challenge remembered.

    For a signed-in ``account`` its user handle (made now if it has none, stored when
    the passkey is) and its passkeys to exclude; for a person registering, a handle
    kept in the session for the account to come, so trying again replaces the
    authenticator's earlier credential instead of adding one.
    """
    handle = _handle_for(account)
    exclude = [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
        for p in (passkeys_of(account) if account is not None else [])
    ]
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=current_app.config["ACCOUNT_NAME"],
        user_name=user_name[:256] or "passkey",
        user_id=handle.encode(),
        user_display_name=(display_name or user_name)[:256] or None,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=exclude,
    )
    _remember(REGISTER, options.challenge, handle=handle)
    return options_to_json(options)


def _handle_for(account: Account | None) -> str:
    if account is not None:
        return account.webauthn_handle or new_secret(32)
    pending = session.get(_PENDING_HANDLE)
    if not isinstance(pending, str) or len(pending) != 43:
        pending = new_secret(32)
        session[_PENDING_HANDLE] = pending
    return pending


def verify_registration(credential: str) -> NewPasskey:
    """Check the browser's answer to this browser's registration challenge (spent
    here, whatever the outcome); the new credential, not stored yet."""
    state = _spend(REGISTER)
    body = _load_json(credential)
    expected = base64url_to_bytes(state["challenge"])
    try:
        parsed = parse_registration_credential_json(body)
        _check_challenge(parsed.response.client_data_json, expected)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=expected,
            expected_rp_id=rp_id(),
            expected_origin=origins(),
            require_user_verification=True,
        )
    except PasskeyRefused:
        raise
    except _MALFORMED:
        raise PasskeyRefused("the passkey could not be verified; please try again") from None
    transports = [str(t.value) for t in (parsed.response.transports or [])]
    return NewPasskey(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        handle=state["handle"],
        transports=[t for t in transports if t in _TRANSPORTS],
    )


_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


def clean_name(name: str | None) -> str:
    """A passkey's friendly name, trimmed; refused when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("give the passkey a name", field="name")
    if len(name) > NAME_LENGTH:
        raise AccountError("the name is too long (at most 64 characters)", field="name")
    return name


def refuse_registered(new: NewPasskey) -> None:
    """PasskeyTaken when ``new``'s credential id is stored already."""
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == new.credential_id)):
        raise PasskeyTaken("this passkey is registered already")


def attach(account: Account, new: NewPasskey, name: str) -> Passkey:
    """Add ``new`` to ``account`` with its ``user.passkey_added`` event (not committed):
    its handle becomes the account's if it has none (and a registering browser's
    pending handle is forgotten). Refuses a credential id registered already."""
    refuse_registered(new)
    if not account.webauthn_handle:
        account.webauthn_handle = new.handle
        if session.get(_PENDING_HANDLE) == new.handle:
            session.pop(_PENDING_HANDLE)
    passkey = Passkey(
        account=account,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=new.transports,
        aaguid=new.aaguid,
        backup_eligible=new.backup_eligible,
        name=clean_name(name),
        created_at=utcnow(),
    )
    db.session.add(passkey)
    actor = f"account:{account.sub}"
    events.record("user.passkey_added", actor, sub=account.sub, name=passkey.name)
    return passkey


def add(account: Account, credential: str, name: str) -> Passkey:
    """Verify the browser's answer and store the passkey on ``account``, in one commit."""
    clean_name(name)  # refuse a bad name before spending the challenge
    new = verify_registration(credential)
    passkey = attach(account, new, name)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PasskeyTaken("this passkey is registered already") from None
    return passkey


# Authentication ------------------------------------------------------------------


def authentication_options() -> str:
    """Options JSON for ``navigator.credentials.get`` with no credential listed (the
    authenticator offers its discoverable passkeys), the challenge remembered."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(AUTHENTICATE, options.challenge)
    return options_to_json(options)


def authenticate(credential: str) -> tuple[Account, Passkey]:
    """The account and passkey the browser's answer proves (challenge spent here);
    the new sign count and the time of use are committed. PasskeyRefused otherwise."""
    state = _spend(AUTHENTICATE)
    body = _load_json(credential)
    expected = base64url_to_bytes(state["challenge"])
    try:
        parsed = parse_authentication_credential_json(body)
    except _MALFORMED:
        raise PasskeyRefused("the passkey answer is malformed") from None
    passkey = _known(parsed.id, parsed.response.user_handle)
    _check_challenge(parsed.response.client_data_json, expected)
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=expected,
            expected_rp_id=rp_id(),
            expected_origin=origins(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except _MALFORMED:
        raise PasskeyRefused("this passkey could not be verified") from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    account = passkey.account
    _keep_spent(state)
    db.session.commit()
    return account, passkey


def _known(credential_id: str, user_handle: bytes | None) -> Passkey:
    """The stored passkey for this credential, of an account that may sign in; the
    user handle, when the authenticator sends one, must be that account's."""
    unknown = PasskeyRefused("this passkey is not registered here")
    if not isinstance(credential_id, str) or len(credential_id) > 1400:
        raise unknown
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    if passkey is None or passkey.account.disabled:
        raise unknown
    if user_handle:
        ours = (passkey.account.webauthn_handle or "").encode()
        if not hmac.compare_digest(bytes(user_handle), ours):
            raise unknown
    return passkey


# The account page ----------------------------------------------------------------


def _own(account: Account, passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.account_id != account.id:
        raise PasskeyNotFound("no such passkey")
    return passkey


def rename(account: Account, passkey_id: int, name: str) -> Passkey:
    """Give one of ``account``'s passkeys a new name."""
    passkey = _own(account, passkey_id)
    passkey.name = clean_name(name)
    db.session.commit()
    return passkey


def remove(account: Account, passkey_id: int) -> None:
    """Remove one of ``account``'s passkeys (``user.passkey_removed``); refused for the
    last one of an account without a password (it could never sign in again)."""
    passkey = _own(account, passkey_id)
    others = db.session.scalar(
        select(Passkey.id).where(Passkey.account_id == account.id, Passkey.id != passkey.id)
    )
    if account.password_hash is None and others is None:
        raise LastCredential(
            "this is your only way to sign in: add another passkey or set a password first"
        )
    actor = f"account:{account.sub}"
    events.record("user.passkey_removed", actor, sub=account.sub, name=passkey.name)
    db.session.delete(passkey)
    db.session.commit()
