"""Client registration: validated URIs, secrets generated here and stored hashed."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select

from app.crypto import hash_secret, new_secret
from app.extensions import db
from app.models import Client, utcnow
from app.models.clients import AUTH_METHODS, GRANT_TYPES

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


class ClientError(ValueError):
    """Client settings that cannot be registered; the message is safe to show."""


def check_uri(uri: str, *, allow_http: bool) -> str:
    """An absolute http(s) URI without fragment; plain http only for loopback hosts."""
    parts = urlsplit(uri)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or parts.fragment
        or len(uri) > 2048
    ):
        raise ClientError(f"not an absolute http(s) URI without fragment: {uri!r}")
    if parts.scheme == "http" and not allow_http and parts.hostname not in LOOPBACK_HOSTS:
        raise ClientError(f"http is only allowed for loopback hosts: {uri!r}")
    return uri


def create_client(
    name: str,
    redirect_uris: list[str],
    *,
    client_id: str | None = None,
    public: bool = False,
    auth_method: str = "client_secret_basic",
    grant_types: list[str] | None = None,
    scope: str = "openid profile email",
    post_logout_redirect_uris: list[str] | None = None,
    initiate_login_uri: str | None = None,
    first_party: bool = False,
    require_pkce: bool = True,
    allow_http: bool = False,
    secret: str | None = None,
) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (shown once, stored hashed)."""
    method = "none" if public else auth_method
    grants = grant_types or ["authorization_code", "refresh_token"]
    _check_settings(name, method, grants, public, require_pkce)
    # Hex, so a generated id never starts with '-' (it would read as a CLI option).
    client_id = client_id or secrets.token_hex(16)
    if db.session.scalar(select(Client).where(Client.client_id == client_id)):
        raise ClientError(f"client_id {client_id!r} is taken")
    secret = None if public else (secret or new_secret())
    client = Client(
        client_id=client_id,
        client_secret_hash=hash_secret(secret) if secret else None,
        name=name,
        redirect_uris=[check_uri(u, allow_http=allow_http) for u in redirect_uris],
        post_logout_redirect_uris=[
            check_uri(u, allow_http=allow_http) for u in post_logout_redirect_uris or []
        ],
        initiate_login_uri=(
            check_uri(initiate_login_uri, allow_http=allow_http) if initiate_login_uri else None
        ),
        grant_types=grants,
        scope=scope,
        token_endpoint_auth_method=method,
        first_party=first_party,
        require_pkce=require_pkce,
    )
    db.session.add(client)
    db.session.commit()
    return client, secret


def _check_settings(name, method, grants, public, require_pkce) -> None:
    if not name or len(name) > 128:
        raise ClientError("a client needs a name of at most 128 characters")
    if method not in AUTH_METHODS:
        raise ClientError(f"unknown auth method {method!r}")
    unknown = set(grants) - set(GRANT_TYPES)
    if unknown:
        raise ClientError(f"unsupported grant types: {', '.join(sorted(unknown))}")
    if public and "client_credentials" in grants:
        raise ClientError("public clients cannot use client_credentials")
    if public and not require_pkce:
        raise ClientError("public clients always require PKCE")


def find_client(client_id: str) -> Client | None:
    """The client with this client_id."""
    return db.session.scalar(select(Client).where(Client.client_id == client_id))


def list_clients() -> list[Client]:
    """Every client, oldest first."""
    return list(db.session.scalars(select(Client).order_by(Client.id)))


def rotate_secret(client_id: str) -> str:
    """Replace a confidential client's secret; the old one stops working at once."""
    client = find_client(client_id)
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    if client.is_public:
        raise ClientError("public clients have no secret")
    secret = new_secret()
    client.client_secret_hash = hash_secret(secret)
    client.secret_rotated_at = utcnow()
    db.session.commit()
    return secret
