"""PKCE (RFC 7636), stricter than Authlib's ``CodeChallenge`` (see NOTES.md): S256
only, a challenge required per the client's policy, and a verifier refused when the
code was issued without a challenge (RFC 9700 §4.8.2)."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from app.models import AuthorizationCode, Client
from app.oauth.openid import is_openid_request

S256_CHALLENGE_LENGTH = 43


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
