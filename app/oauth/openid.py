"""OpenID Connect on the code grant (OIDC Core §3.1): the ``openid`` scope, and ID
tokens signed with the current database key, ``kid`` in the header."""

from __future__ import annotations

import time

from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode
from authlib.oidc.core.util import create_half_hash
from flask import current_app
from joserfc import jwt
from sqlalchemy import select

from app.accounts import mfa_policy
from app.extensions import db
from app.models import AuthorizationCode
from app.oauth import keys
from app.oauth.claims import user_claims


def is_openid_request(scope: str | None) -> bool:
    """Whether the request asks for OpenID Connect (the ``openid`` scope)."""
    return "openid" in (scope or "").split()


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
        claims["acr"] = mfa_policy.acr(claims.get("amr"))
        return claims

    def generate_user_info(self, user, scope):
        return UserInfo(user_claims(user, scope))
