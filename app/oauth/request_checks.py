"""The authorization request's OpenID Connect parameters that Authlib leaves alone:
``request`` and ``request_uri`` (not supported), ``response_mode``, ``prompt``,
``view_type``, ``nonce``, ``max_age`` and ``id_token_hint``."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError

from app.models import AuthorizationCode
from app.oauth.claims import audiences, decode_id_token_hint

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
