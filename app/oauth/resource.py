"""Protecting resources with bearer access tokens (RFC 6750)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2.rfc6750 import BearerTokenValidator as _BearerTokenValidator

from app.oauth.tokens import find_token


class BearerTokenValidator(_BearerTokenValidator):
    """Looks access tokens up by hash; expired, revoked or disabled means 401."""

    def authenticate_token(self, token_string):
        token = find_token(token_string, "access_token")
        return token if token is not None and token.presented == "access_token" else None


def build_protector(realm: str) -> ResourceProtector:
    """A resource protector for this app's bearer tokens."""
    protector = ResourceProtector()
    protector.register_token_validator(BearerTokenValidator(realm=realm))
    return protector


__all__ = ["BearerTokenValidator", "build_protector", "current_token"]
