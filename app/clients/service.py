"""Client registration: validated URIs, secrets generated here and stored hashed."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.mfa_policy import CLIENT_POLICIES
from app.crypto import hash_secret, new_secret
from app.errors import DomainError
from app.extensions import db
from app.models import Client, utcnow
from app.models.clients import AUTH_METHODS, GRANT_TYPES
from app.pagination import Page, keyset_page
from config import SIGNUP_MODES

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: Longest URI accepted (the columns' length).
URI_LENGTH = 2048
#: Longest space-separated scope string (the column's length).
SCOPE_LENGTH = 1024


class ClientError(DomainError, ValueError):
    """Client settings that cannot be registered (400); the message is safe to show."""


class ClientConflict(ClientError):
    """The request contradicts the client's current state, or its id is taken (409)."""

    status = 409
    code = "conflict"


class ClientNotFound(ClientError):
    """No client with that client_id (404)."""

    status = 404
    code = "not_found"


def policy() -> dict:
    """URI and scope rules from configuration, for callers acting for a person or a
    program (admin API, dashboard): http only where Authlib allows it, known scopes."""
    return {
        "allow_http": current_app.config["AUTHLIB_INSECURE_TRANSPORT"],
        "known_scopes": current_app.config["OAUTH_SCOPES"],
    }


def check_uri(uri: str, *, allow_http: bool) -> str:
    """An absolute http(s) URI without fragment; plain http only for loopback hosts."""
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = hostname = None
    if (
        parts is None
        or parts.scheme not in ("https", "http")
        or not parts.netloc
        or parts.fragment
        or len(uri) > URI_LENGTH
        or any(char.isspace() or ord(char) < 0x20 for char in uri)
    ):
        raise ClientError(f"not an absolute http(s) URI without fragment: {uri!r}")
    if parts.scheme == "http" and not allow_http and hostname not in LOOPBACK_HOSTS:
        raise ClientError(f"http is only allowed for loopback hosts: {uri!r}")
    return uri


def check_scope(scope: str, known: Iterable[str]) -> str:
    """The scope with duplicates removed; every value must be one this server knows."""
    values = list(dict.fromkeys(scope.split()))
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ClientError(f"unknown scopes: {', '.join(unknown)}", field="scope")
    normalised = " ".join(values)
    if len(normalised) > SCOPE_LENGTH:
        raise ClientError(f"scope: at most {SCOPE_LENGTH} characters", field="scope")
    return normalised


def check_signup_mode(mode: str | None) -> str | None:
    """None (follow the global setting) or one of SIGNUP_MODES (spec §3.5)."""
    if mode is not None and mode not in SIGNUP_MODES:
        raise ClientError(
            f"signup_mode must be one of {', '.join(SIGNUP_MODES)} or null, not {mode!r}",
            field="signup_mode",
        )
    return mode


def check_mfa(mfa: str) -> str:
    """One of ``off``, ``optional``, ``required`` (app/accounts/mfa_policy.py, issue 16)."""
    if mfa not in CLIENT_POLICIES:
        raise ClientError(
            f"mfa must be one of {', '.join(CLIENT_POLICIES)}, not {mfa!r}", field="mfa"
        )
    return mfa


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
    signup_mode: str | None = None,
    mfa: str = "off",
    allow_http: bool = False,
    secret: str | None = None,
    known_scopes: Iterable[str] | None = None,
) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (shown once, stored hashed).

    With ``known_scopes``, every scope must be among them. The auth method ``none``
    makes a public client. ``signup_mode`` None follows the global setting.
    """
    public = public or auth_method == "none"
    method = "none" if public else auth_method
    grants = grant_types or ["authorization_code", "refresh_token"]
    _check_settings(name, method, grants, public, require_pkce)
    if known_scopes is not None:
        scope = check_scope(scope, known_scopes)
    check_signup_mode(signup_mode)
    check_mfa(mfa)
    if client_id is not None and not 0 < len(client_id) <= 64:
        raise ClientError("client_id must be 1 to 64 characters", field="client_id")
    # Hex, so a generated id never starts with '-' (it would read as a CLI option).
    client_id = client_id or secrets.token_hex(16)
    if find_client(client_id) is not None:
        raise ClientConflict(f"client_id {client_id!r} is taken", field="client_id")
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
        signup_mode=signup_mode,
        mfa=mfa,
    )
    db.session.add(client)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ClientConflict(f"client_id {client_id!r} is taken", field="client_id") from None
    return client, secret


def _check_name(name: str | None) -> None:
    if not name or len(name) > 128:
        raise ClientError("a client needs a name of at most 128 characters", field="name")


def _check_settings(name, method, grants, public, require_pkce) -> None:
    _check_name(name)
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


def get_client(client_id: str) -> Client:
    """The client with this client_id; ClientNotFound otherwise."""
    client = find_client(client_id)
    if client is None:
        raise ClientNotFound(f"no client {client_id!r}")
    return client


def list_clients() -> list[Client]:
    """Every client, oldest first."""
    return list(db.session.scalars(select(Client).order_by(Client.id)))


def page_of_clients(after: int | None = None, limit: int = 50) -> Page:
    """Clients, oldest first, one page at a time."""
    return keyset_page(select(Client), Client.id, after, limit)


#: Settings ``update_client`` accepts.
UPDATABLE = frozenset(
    {
        "name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "initiate_login_uri",
        "first_party",
        "require_pkce",
        "scope",
        "signup_mode",
        "mfa",
    }
)


def update_client(
    client_id: str,
    changes: dict[str, Any],
    *,
    allow_http: bool = False,
    known_scopes: Iterable[str] | None = None,
) -> Client:
    """Change a client's settings (keys from UPDATABLE) and commit; all are validated
    before any changes. ``initiate_login_uri`` None removes it; ``signup_mode`` None
    makes the client follow the global setting again."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ClientError(f"cannot change {', '.join(sorted(unknown))}")
    client = get_client(client_id)
    values = dict(changes)
    if "name" in values:
        _check_name(values["name"])
    for key in ("redirect_uris", "post_logout_redirect_uris"):
        if key in values:
            values[key] = [check_uri(u, allow_http=allow_http) for u in values[key] or []]
    if values.get("initiate_login_uri"):
        values["initiate_login_uri"] = check_uri(
            values["initiate_login_uri"], allow_http=allow_http
        )
    elif "initiate_login_uri" in values:
        values["initiate_login_uri"] = None
    if "scope" in values and known_scopes is not None:
        values["scope"] = check_scope(values["scope"], known_scopes)
    if "signup_mode" in values:
        check_signup_mode(values["signup_mode"])
    if "mfa" in values:
        check_mfa(values["mfa"])
    if client.is_public and values.get("require_pkce") is False:
        raise ClientError("public clients always require PKCE", field="require_pkce")
    for key, value in values.items():
        setattr(client, key, value)
    db.session.commit()
    return client


def rotate_secret(client_id: str) -> str:
    """Replace a confidential client's secret; the old one stops working at once."""
    client = get_client(client_id)
    if client.is_public:
        raise ClientConflict("public clients have no secret")
    secret = new_secret()
    client.client_secret_hash = hash_secret(secret)
    client.secret_rotated_at = utcnow()
    db.session.commit()
    return secret
