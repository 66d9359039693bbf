"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri

from app.models import Client
from app.oauth.claims import audiences, decode_id_token_hint
from app.oauth.server import query_client


class LogoutError(ValueError):
    """A logout request that must not be followed; the message is safe to show."""


@dataclass
class LogoutRequest:
    """A validated logout request."""

    client: Client | None
    post_logout_redirect_uri: str | None
    state: str | None
    hint_sub: str | None

    def redirect_target(self) -> str | None:
        """Where to send the browser afterwards (with ``state``), if anywhere."""
        if not self.post_logout_redirect_uri:
            return None
        params = [("state", self.state)] if self.state else []
        return add_params_to_uri(self.post_logout_redirect_uri, params)


def validate_logout(values) -> LogoutRequest:
    """Check the hint, the client and the exact post-logout redirect URI."""
    hint_claims = None
    if values.get("id_token_hint"):
        hint_claims = decode_id_token_hint(values["id_token_hint"])
        if hint_claims is None:
            raise LogoutError("The id_token_hint is not an ID token issued here.")
    client = _client(values.get("client_id"), hint_claims)
    uri = values.get("post_logout_redirect_uri")
    if uri and (client is None or not client.check_post_logout_redirect_uri(uri)):
        raise LogoutError("The post_logout_redirect_uri is not registered for this client.")
    return LogoutRequest(
        client=client,
        post_logout_redirect_uri=uri or None,
        state=values.get("state"),
        hint_sub=hint_claims["sub"] if hint_claims else None,
    )


def _client(client_id: str | None, hint_claims: dict | None) -> Client | None:
    hinted = audiences(hint_claims) if hint_claims else []
    if client_id:
        client = query_client(client_id)
        if client is None:
            raise LogoutError("Unknown client_id.")
        if hint_claims and client_id not in hinted:
            raise LogoutError("The id_token_hint was not issued to this client.")
        return client
    if len(hinted) == 1:
        return query_client(hinted[0])
    return None
