"""The authorization server, built fresh for every app (never a module-level singleton)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Request
from flask import Flask, current_app
from flask import request as flask_request
from sqlalchemy import bindparam, select

from app.crypto import new_secret
from app.extensions import db
from app.models import Client
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from app.oauth.openid import OpenIDCode
from app.oauth.pkce import S256CodeChallenge
from app.oauth.request_checks import AuthorizationRequestChecks
from app.oauth.resource import build_protector
from app.oauth.tokens import save_token

SERVER_KEY = "vestibule.oauth_server"
#: Built once: constructing the comparison cost a token request more than compiling it,
#: which SQLAlchemy caches anyway.
_CLIENT_BY_ID = select(Client).where(Client.client_id == bindparam("client_id"))
PROTECTOR_KEY = "vestibule.resource_protector"


class AuthorizationServer(_AuthorizationServer):
    """Accepts a prebuilt request, so a paused authorization can be resumed."""

    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        return FlaskOAuth2Request(flask_request)

    def authenticate_client(self, request, methods, endpoint="token"):
        try:
            return super().authenticate_client(request, methods, endpoint)
        except UnicodeDecodeError:
            # Authlib decodes Basic credentials as strict UTF-8 and lets the error escape.
            raise InvalidClientError(
                status_code=401, description="Malformed client credentials."
            ) from None


def query_client(client_id: str) -> Client | None:
    """The registered client with this client_id."""
    # Also reached with the (percent-decoded) Basic credentials, which the request
    # guard does not see; PostgreSQL cannot compare a string holding NUL.
    if not isinstance(client_id, str) or len(client_id) > 64 or "\x00" in client_id:
        return None
    return db.session.scalar(_CLIENT_BY_ID, {"client_id": client_id})


def new_token(*_args, **_kwargs) -> str:
    """An access or refresh token: 256 random bits (``app.crypto.new_secret``), where
    Authlib's default draws 42 characters one ``SystemRandom.choice`` at a time."""
    return new_secret()


def init_oauth(app: Flask) -> None:
    """Build the authorization server and resource protector for ``app``."""
    cfg = app.config
    cfg["OAUTH2_SCOPES_SUPPORTED"] = list(cfg["OAUTH_SCOPES"])
    cfg["OAUTH2_ACCESS_TOKEN_GENERATOR"] = new_token
    cfg["OAUTH2_REFRESH_TOKEN_GENERATOR"] = new_token
    cfg["OAUTH2_TOKEN_EXPIRES_IN"] = {
        "authorization_code": cfg["ACCESS_TOKEN_LIFETIME"],
        "refresh_token": cfg["ACCESS_TOKEN_LIFETIME"],
        "client_credentials": cfg["CLIENT_CREDENTIALS_TOKEN_LIFETIME"],
    }
    server = AuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(
        AuthorizationCodeGrant,
        [AuthorizationRequestChecks(), S256CodeChallenge(), OpenIDCode()],
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    app.extensions[SERVER_KEY] = server
    app.extensions[PROTECTOR_KEY] = build_protector(realm=cfg["ISSUER"])


def authorization_server() -> AuthorizationServer:
    """This app's authorization server."""
    return current_app.extensions[SERVER_KEY]


def resource_protector():
    """This app's bearer-token protector."""
    return current_app.extensions[PROTECTOR_KEY]


def bearer_token(scope: str):
    """The valid access token of the current request carrying ``scope``.

    Aborts with RFC 6750's 401 (missing, unknown, expired, revoked) or 403
    (insufficient_scope), each with its ``WWW-Authenticate`` challenge.
    """
    protector = resource_protector()
    try:
        return protector.acquire_token([scope])
    except OAuth2Error as error:
        protector.raise_error_response(error)
