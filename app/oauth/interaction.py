"""Pausing an authorization request while the person signs in or consents, and
resuming it (the node-oidc-provider "interaction" model).

The validated request parameters are stored in the database under an opaque uid,
bound to the browser that started them; resuming rebuilds the OAuth request from
them and validates it again from scratch, on whichever instance serves it.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import current_app
from sqlalchemy import select

from app.accounts import mfa_policy
from app.crypto import hash_secret, new_secret
from app.extensions import db
from app.models import BrowserSession, Client, Consent, Interaction, Invitation, utcnow
from app.oauth.claims import decode_id_token_hint

#: Stored requests larger than this are refused (bytes of parameter text).
MAX_PARAMS_SIZE = 16 * 1024

LOGIN = "login"
CONSENT = "consent"
REGISTER = "register"
#: Sign in to accept an invitation for an existing account (issue 15): asked until the
#: invitation is settled, even of a person who signed in for this request otherwise.
JOIN = "join"
#: The second factor (issue 16): the session's sign-in lacks one that the client
#: (``mfa``), the request (``acr_values``) or the person's roles need
#: (app/accounts/mfa_policy.py). A password held for its second factor is still LOGIN
#: here: nobody is signed in until the code is given (app/web/mfa.py shows the step).
MFA = "second_factor"
#: "Check your email": the signed-in person's email is not verified yet, and the
#: operator requires it (REQUIRE_VERIFIED_EMAIL).
VERIFY_EMAIL = "verify_email"
#: The paused request keeps the invitation only as the hash of its token; the token
#: itself travels in the interaction page's URL and the registration form's action.
INVITE_HASH = "invite_hash"


class StoredAuthorizationRequest(OAuth2Request):
    """An authorization request rebuilt from stored parameters."""

    def __init__(self, params: dict[str, str]):
        super().__init__("GET", current_app.config["ISSUER"] + "/authorize")
        self.payload = BasicOAuth2Payload(dict(params))

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return {}


def request_params(values) -> dict[str, str] | None:
    """Single-valued parameters of the incoming request, or None when too large."""
    params = {key: values.get(key) for key in values}
    if sum(len(k) + len(v) for k, v in params.items()) > MAX_PARAMS_SIZE:
        return None
    return params


def wants_registration(params: dict[str, str]) -> bool:
    """The request asks for the registration page: an invitation, ``view_type=register``
    or ``prompt=create``."""
    return (
        "invite_id" in params
        or INVITE_HASH in params
        or params.get("view_type") == "register"
        or "create" in params.get("prompt", "").split()
    )


def pause(params: dict[str, str], browser_secret: str) -> Interaction:
    """Store the request under a fresh opaque uid bound to this browser."""
    now = utcnow()
    stored = dict(params)
    token = stored.pop("invite_id", None)
    if token is not None:
        stored[INVITE_HASH] = hash_secret(token)
    row = Interaction(
        uid=new_secret(24),
        browser_hash=hash_secret(browser_secret),
        params=stored,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["INTERACTION_LIFETIME"]),
    )
    db.session.add(row)
    db.session.commit()
    return row


def load(uid: str, browser_secret: str) -> Interaction | None:
    """The paused request ``uid`` if this browser started it and it has not expired."""
    row = db.session.scalar(select(Interaction).where(Interaction.uid == uid))
    if row is None or row.is_expired():
        return None
    if row.browser_hash != hash_secret(browser_secret):
        return None
    return row


def client_of(row: Interaction) -> Client | None:
    """The client that started this request (None if it was deleted meanwhile)."""
    return db.session.scalar(select(Client).where(Client.client_id == row.params.get("client_id")))


def invitation_token_matches(row: Interaction, token: str | None) -> bool:
    """Whether ``token`` is the invitation this request was started with."""
    stored = row.params.get(INVITE_HASH)
    if stored is None or not token:
        return False
    return hmac.compare_digest(stored, hash_secret(token))


def sign_in_instead(row: Interaction) -> None:
    """The person chose to sign in to an existing account rather than register."""
    params = {k: v for k, v in row.params.items() if k not in (INVITE_HASH, "view_type")}
    prompts = [p for p in params.pop("prompt", "").split() if p != "create"]
    if prompts:
        params["prompt"] = " ".join(prompts)
    row.params = params
    db.session.commit()


def joined(row: Interaction) -> None:
    """The invitation to an existing account is accepted: the request goes on as an
    ordinary sign-in."""
    sign_in_instead(row)


def register_without_invitation(row: Interaction) -> None:
    """Continue with self-service registration, leaving an unusable invitation aside."""
    params = {k: v for k, v in row.params.items() if k != INVITE_HASH}
    params["view_type"] = "register"
    row.params = params
    db.session.commit()


def finish(row: Interaction, commit: bool = True) -> None:
    """Forget a paused request once it has been answered (with ``commit=False``, in
    the transaction that answers it)."""
    db.session.delete(row)
    if commit:
        db.session.commit()


def required_step(
    params: dict[str, str],
    client: Client,
    browser: BrowserSession | None,
    interaction: Interaction | None = None,
) -> str | None:
    """What the person must still do before a code can be issued: JOIN, REGISTER,
    LOGIN, MFA, VERIFY_EMAIL, CONSENT or None. Registering (or signing in instead) for this
    request satisfies REGISTER and LOGIN."""
    signed_in_here = interaction is not None and interaction.login_at is not None
    if _joins_account(params):
        return JOIN
    if not signed_in_here and wants_registration(params):
        return REGISTER
    if browser is None or (not signed_in_here and _login_needed(params, browser)):
        return LOGIN
    if mfa_policy.second_factor_needed(
        browser.account, browser.amr, client.mfa, params.get("acr_values")
    ):
        return MFA
    if current_app.config["REQUIRE_VERIFIED_EMAIL"] and not browser.account.email_verified:
        return VERIFY_EMAIL
    if _consent_needed(params, client, browser):
        return CONSENT
    return None


def _joins_account(params: dict[str, str]) -> bool:
    """Whether the request carries an invitation for a person who already has an
    account (one query, only for requests with an invitation)."""
    token = params.get("invite_id")
    token_hash = params.get(INVITE_HASH) or (hash_secret(token) if token else None)
    if token_hash is None:
        return False
    joins = select(Invitation.existing_account).where(Invitation.token_hash == token_hash)
    return bool(db.session.scalar(joins))


def _login_needed(params: dict[str, str], browser: BrowserSession) -> bool:
    if "login" in params.get("prompt", "").split():
        return True
    max_age = params.get("max_age")
    if max_age is not None:
        age = (utcnow() - browser.auth_time).total_seconds()
        if age > int(max_age):
            return True
    hint = params.get("id_token_hint")
    if hint is not None:
        claims = decode_id_token_hint(hint)
        if claims is None or claims["sub"] != browser.account.sub:
            return True
    return False


def _consent_needed(params: dict[str, str], client: Client, browser: BrowserSession) -> bool:
    if "consent" in params.get("prompt", "").split():
        return True
    if client.first_party:
        return False
    consent = find_consent(browser.account_id, client.id)
    return consent is None or not consent.covers(granted_scope(params, client))


def granted_scope(params: dict[str, str], client: Client) -> str:
    """The scopes this client would be granted for the request."""
    return client.get_allowed_scope(params.get("scope")) or ""


def find_consent(account_id: int, client_id: int) -> Consent | None:
    """The remembered consent of this person for this client."""
    return db.session.scalar(
        select(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
    )


def remember_consent(account_id: int, client: Client, scope: str) -> None:
    """Add ``scope`` to what this person granted ``client``."""
    consent = find_consent(account_id, client.id)
    if consent is None:
        consent = Consent(account_id=account_id, client_id=client.id, scope="")
        db.session.add(consent)
    merged = dict.fromkeys(consent.scope.split() + scope.split())
    consent.scope = " ".join(merged)
    consent.granted_at = utcnow()
    db.session.commit()


def mark_signed_in(row: Interaction) -> None:
    """Record that the person signed in for this request (satisfies prompt=login, max_age)."""
    row.login_at = utcnow()
    db.session.commit()
