"""Grant types and their extensions, stricter than Authlib's defaults (see NOTES.md).

- authorization code: exact redirect_uri, PKCE S256 per client policy, single-use
  codes claimed atomically, a replayed code revokes what it issued;
- refresh token: rotated on every use, a replayed one revokes its whole family;
- client credentials: confidential clients only, scopes limited to the client's.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from base64 import urlsafe_b64encode
from collections import defaultdict
from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode
from authlib.oidc.core.util import create_half_hash
from flask import current_app
from joserfc import jwt
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.crypto import hash_secret
from app.extensions import db
from app.models import AuthorizationCode, Client, Token, utcnow
from app.oauth import keys
from app.oauth.claims import audiences, decode_id_token_hint, user_claims
from app.oauth.tokens import find_token, revoke_family

CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post"]
ALL_METHODS = [*CONFIDENTIAL_METHODS, "none"]
S256_CHALLENGE_LENGTH = 43


def is_openid_request(scope: str | None) -> bool:
    """Whether the request asks for OpenID Connect (the ``openid`` scope)."""
    return "openid" in (scope or "").split()


def pkce_required(client: Client, data) -> bool:
    """PKCE is required unless a confidential client opted out and sends an OIDC nonce."""
    if client.is_public or client.require_pkce:
        return True
    return not (is_openid_request(data.get("scope")) and data.get("nonce"))


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only; a challenge is required per the client's policy.

    Checked in the ``after_validate_authorization_request_payload`` hook so that
    errors redirect to the (already validated) redirect_uri with ``state``.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload
        for name in ("code_challenge", "code_challenge_method"):
            if len(payload.datalist.get(name, [])) > 1:
                raise InvalidRequestError(f"Multiple {name} in request.")
        challenge = payload.data.get("code_challenge")
        method = payload.data.get("code_challenge_method")
        if not challenge:
            if method or pkce_required(grant.request.client, payload.data):
                raise InvalidRequestError("PKCE is required: send code_challenge with S256.")
            return
        if method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if len(challenge) != S256_CHALLENGE_LENGTH or not _is_b64url(challenge):
            raise InvalidRequestError("Invalid code_challenge.")

    def validate_code_verifier(self, grant, result):
        request = grant.request
        verifier = request.form.get("code_verifier")
        code: AuthorizationCode = request.authorization_code
        if not code.code_challenge:
            # RFC 9700 §4.8.2: a verifier without a stored challenge is refused,
            # or an attacker could pass off a code stolen from a PKCE-less flow.
            if verifier:
                raise InvalidRequestError("code_verifier sent but no code_challenge was.")
            return
        if not verifier:
            raise InvalidRequestError("Missing code_verifier.")
        if code.code_challenge_method != "S256" or not _valid_verifier(verifier):
            raise InvalidGrantError("Invalid code_verifier.")
        if not hmac.compare_digest(s256(verifier), code.code_challenge):
            raise InvalidGrantError("Code challenge failed.")


def _is_b64url(value: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


def _valid_verifier(value: str) -> bool:
    return 43 <= len(value) <= 128 and all(
        c.isascii() and (c.isalnum() or c in "-._~") for c in value
    )


#: ``create`` asks for the registration page (OIDC "Initiating User Registration").
KNOWN_PROMPTS = {"none", "login", "consent", "select_account", "create"}
#: ``view_type`` picks the first page: ``register`` (with or without ``invite_id``).
VIEW_TYPES = {"login", "register"}
#: The nonce is stored with the code; a longer one would overflow the column
#: (an error on PostgreSQL, silently kept on SQLite).
MAX_NONCE_LENGTH = AuthorizationCode.__table__.c.nonce.type.length
#: max_age has at most this many digits (over 300 years; Python's int() refuses
#: strings of more than 4,300 digits, and no session is that old anyway).
MAX_AGE_DIGITS = 10


class AuthorizationRequestChecks:
    """Checks OIDC parameters Authlib leaves alone, once the redirect_uri is trusted,
    so that every failure here redirects back with ``state`` and ``iss``."""

    def __call__(self, grant):
        grant.register_hook("after_validate_authorization_request_payload", self.validate)

    def validate(self, grant, redirect_uri):
        data = grant.request.payload.data
        if "request" in data:
            raise RequestNotSupportedError()
        if "request_uri" in data:
            raise RequestURINotSupportedError()
        if data.get("response_mode", "query") != "query":
            raise InvalidRequestError("Only response_mode=query is supported.")
        if not set(data.get("prompt", "").split()) <= KNOWN_PROMPTS:
            raise InvalidRequestError("Unsupported prompt value.")
        if data.get("view_type", "login") not in VIEW_TYPES:
            raise InvalidRequestError("view_type must be login or register.")
        nonce = data.get("nonce")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequestError("nonce is too long.")
        max_age = data.get("max_age")
        if max_age is not None and not (
            max_age.isascii() and max_age.isdigit() and len(max_age) <= MAX_AGE_DIGITS
        ):
            raise InvalidRequestError("max_age must be a non-negative integer of seconds.")
        hint = data.get("id_token_hint")
        if hint is not None:
            claims = decode_id_token_hint(hint)
            if claims is None or grant.request.client.client_id not in audiences(claims):
                raise InvalidRequestError("Invalid id_token_hint.")


class OrderedHooks:
    """Run hooks in the order they were registered.

    Authlib keeps a grant's hooks in a ``set``, whose order follows object addresses
    and so changes from process to process: the same request could get
    ``request_not_supported`` from one worker and a PKCE error from another. OIDC Core
    §6 wants the former, so the extensions' order in ``init_oauth`` decides.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hooks = defaultdict(list)

    def register_hook(self, hook_type, hook):
        if hook not in self._hooks[hook_type]:
            self._hooks[hook_type].append(hook)


class OneCommit:
    """A token request writes everything (code claimed, tokens stored, old refresh
    token retired) in one commit, once the answer is built: nothing is expired and
    re-read halfway (the client, code and account the ID token needs)."""

    def create_token_response(self):
        answer = super().create_token_response()
        db.session.commit()
        return answer


class AuthorizationCodeGrant(OrderedHooks, OneCommit, grants.AuthorizationCodeGrant):
    """Code grant: exact redirect_uri, 60 s single-use hashed codes."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        # A redirect_uri is always required and compared byte for byte; the error
        # text never echoes the URI (it may hold characters RFC 6749 forbids).
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing redirect_uri.")
        if len(
            request.payload.datalist.get("redirect_uri", [])
        ) > 1 or not client.check_redirect_uri(uri):
            raise InvalidRequestError("The redirect_uri is not registered for this client.")
        return uri

    def save_authorization_code(self, code, request):
        # ``request.user`` is the BrowserSession that granted the request.
        browser = request.user
        data = request.payload.data
        now = utcnow()
        row = AuthorizationCode(
            code_hash=hash_secret(code),
            client_id=request.client.id,
            account_id=browser.account_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=browser.auth_time,
            session_id=browser.public_sid,
            issued_at=now,
            expires_at=now + timedelta(seconds=current_app.config["AUTHORIZATION_CODE_LIFETIME"]),
        )
        db.session.add(row)
        db.session.commit()

    def query_authorization_code(self, code, client):
        row = db.session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == hash_secret(code))
            .options(joinedload(AuthorizationCode.account))
        )
        if row is None or row.client_id != client.id:
            return None
        if row.used_at is None and row.is_expired():
            return None
        # A used code goes on through the redirect_uri and PKCE checks: only a replay
        # that passes them (the client itself, or whoever also stole its verifier)
        # revokes what the first use issued, in ``authenticate_user``. Otherwise
        # anyone who saw a public client's code could sign its user out.
        return row

    def delete_authorization_code(self, authorization_code):
        # The row stays (marked used) so that a replay can be recognised.
        return None

    def authenticate_user(self, authorization_code):
        # Claim the code atomically: of two concurrent redemptions one wins.
        claimed = db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == authorization_code.id)
            .where(AuthorizationCode.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
        if claimed != 1:
            # RFC 6749 §4.1.2: a code used twice revokes what the first use issued.
            db.session.rollback()
            revoke_family(authorization_code.family_id)
            db.session.commit()
            raise InvalidGrantError("Invalid code in request.")
        account = authorization_code.account
        return None if account.disabled else account


class RefreshTokenGrant(OneCommit, grants.RefreshTokenGrant):
    """Refresh tokens rotate on every use; a replay revokes the family (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = find_token(refresh_token, "refresh_token")
        if row is None or row.presented != "refresh_token":
            return None
        if row.refresh_token_rotated_at is not None:
            revoke_family(row.family_id)
            db.session.commit()
            return None
        if row.is_revoked() or row.is_expired():
            return None
        return row

    def authenticate_user(self, refresh_token):
        # Claim the refresh token atomically (of two concurrent uses one wins), and
        # retire its access token in the same statement (``revoke_old_credential``).
        now = utcnow()
        claimed = db.session.execute(
            update(Token)
            .where(Token.id == refresh_token.id)
            .where(Token.refresh_token_rotated_at.is_(None))
            .values(
                refresh_token_rotated_at=now,
                access_token_revoked_at=func.coalesce(Token.access_token_revoked_at, now),
            )
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            revoke_family(refresh_token.family_id)
            db.session.commit()
            raise InvalidGrantError()
        return refresh_token.account

    def revoke_old_credential(self, refresh_token):
        pass  # done by the claim in ``authenticate_user``


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine-to-machine tokens for confidential clients, within their allowed scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def create_token_response(self):
        client: Client = self.request.client
        requested = self.request.payload.scope
        non_oidc = " ".join(
            s for s in client.allowed_scopes if s not in ("openid", "offline_access")
        )
        scope = requested or non_oidc
        if set(scope.split()) - set(client.allowed_scopes) or is_openid_request(requested):
            raise InvalidScopeError()
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER


class OpenIDCode(_OpenIDCode):
    """ID tokens signed with the current database key, ``kid`` in the header."""

    def exists_nonce(self, nonce, request):
        return (
            db.session.scalar(
                select(AuthorizationCode.id).where(
                    AuthorizationCode.client_id == request.client.id,
                    AuthorizationCode.nonce == nonce,
                )
            )
            is not None
        )

    def encode_id_token(self, token, request):
        # The kid and key come as a pair, so the header always names the signer.
        kid, key = keys.signing_key()
        claims = self.get_compatible_claims(request)
        if request.authorization_code:
            claims.update(self.get_authorization_code_claims(request.authorization_code))
        at_hash = create_half_hash(token["access_token"], "RS256")
        claims["at_hash"] = at_hash.decode("ascii")
        claims.update(self.generate_user_info(request.user, token["scope"]))
        header = {"alg": "RS256", "typ": "JWT", "kid": kid}
        return jwt.encode(header, claims, key, ["RS256"])

    def get_client_claims(self, client):
        now = int(time.time())
        return {
            "iss": current_app.config["ISSUER"],
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + current_app.config["ID_TOKEN_LIFETIME"],
        }

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.session_id:
            claims["sid"] = authorization_code.session_id
        return claims

    def generate_user_info(self, user, scope):
        return UserInfo(user_claims(user, scope))
