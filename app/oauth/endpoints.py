"""Token revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from flask import current_app

from app.extensions import db
from app.models import utcnow
from app.oauth.claims import membership_claims
from app.oauth.grants import ALL_METHODS, CONFIDENTIAL_METHODS
from app.oauth.tokens import find_token, revoke_family


def _require_token(request) -> None:
    """``token`` is required; ``token_type_hint`` only orders the lookup, so an unknown
    value is ignored (RFC 7009 §2.1, RFC 7662 §2.1). Authlib answers it with a 401
    ``unsupported_token_type`` instead, which blames a client that authenticated fine."""
    if "token" not in request.form:
        raise InvalidRequestError("Missing token.")


class RevocationEndpoint(_RevocationEndpoint):
    """Revoking a refresh token revokes its family; an access token, just itself."""

    CLIENT_AUTH_METHODS = ALL_METHODS

    def check_params(self, request, client):
        _require_token(request)

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        if token.presented == "refresh_token":
            # RFC 7009 §2.1: also invalidate access tokens of the same grant.
            revoke_family(token.family_id)
        elif token.access_token_revoked_at is None:
            token.access_token_revoked_at = utcnow()
        db.session.commit()


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """Confidential clients introspect their own tokens; ``may_introspect`` clients any."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def check_params(self, request, client):
        _require_token(request)

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.client_id == client.id or client.may_introspect

    def introspect_token(self, token):
        payload = {
            "active": True,
            "client_id": token.client.client_id,
            "scope": token.scope,
            "iss": current_app.config["ISSUER"],
            "iat": int(token.issued_at.timestamp()),
            "exp": int(
                (
                    token.refresh_token_expires_at
                    if token.presented == "refresh_token"
                    else token.access_token_expires_at
                ).timestamp()
            ),
            "aud": token.client.client_id,
        }
        # RFC 7662's token_type: "Bearer" for access tokens; a refresh token is not one,
        # and says so with its RFC 7009 type name rather than by leaving the field out.
        payload["token_type"] = "Bearer" if token.presented == "access_token" else "refresh_token"
        if token.account is not None:
            payload.update(membership_claims(token.account, token.scope))
            payload["sub"] = token.account.sub
            if token.account.email:
                payload["username"] = token.account.email
        return payload
