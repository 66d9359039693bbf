"""Protecting resources with bearer access tokens (RFC 6750)."""

from __future__ import annotations

import json

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.integrations.flask_oauth2.errors import raise_http_exception
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import MissingAuthorizationError
from authlib.oauth2.rfc6750 import BearerTokenValidator as _BearerTokenValidator
from authlib.oauth2.rfc6750 import InsufficientScopeError

from app.oauth.tokens import find_token


class BearerTokenValidator(_BearerTokenValidator):
    """Looks access tokens up by hash; expired, revoked or disabled means 401."""

    def authenticate_token(self, token_string):
        token = find_token(token_string, "access_token")
        return token if token is not None and token.presented == "access_token" else None


class BearerResourceProtector(ResourceProtector):
    """Authlib's protector with RFC 6750 §3 challenges where Authlib's differ.

    A 403 ``insufficient_scope`` gets the challenge Authlib leaves out, and a request
    without credentials gets a bare ``Bearer realm=...`` (§3.1: no error code then).
    """

    def __init__(self, realm: str):
        super().__init__()
        self.realm = realm

    def raise_error_response(self, error: OAuth2Error):
        if isinstance(error, MissingAuthorizationError):
            challenge = f'Bearer realm="{self.realm}"'
        elif isinstance(error, InsufficientScopeError):
            challenge = (
                f'Bearer realm="{self.realm}", error="{error.error}", '
                f'error_description="{error.get_error_description()}"'
            )
        else:
            super().raise_error_response(error)
            return
        headers = [h for h in error.get_headers() if h[0] != "WWW-Authenticate"]
        headers.append(("WWW-Authenticate", challenge))
        raise_http_exception(error.status_code, json.dumps(dict(error.get_body())), headers)


def build_protector(realm: str) -> ResourceProtector:
    """A resource protector for this app's bearer tokens."""
    protector = BearerResourceProtector(realm=realm)
    protector.register_token_validator(BearerTokenValidator(realm=realm))
    return protector


__all__ = ["BearerTokenValidator", "build_protector", "current_token"]
