"""Relying parties registered with Vestibule.

The class implements Authlib's ``ClientMixin`` protocol by duck typing, so this
module stays free of the protocol library.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import secret_matches
from app.models.base import Base, UTCDateTime, utcnow

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class Client(Base):
    """An OAuth client. Its secret is stored only as a SHA-256 hash."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the client secret; null for public clients (auth method ``none``).
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    #: Exact strings; a request's redirect_uri must equal one of them byte for byte.
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The client's login route that invitation links land on (spec §2.2).
    initiate_login_uri: Mapped[str | None] = mapped_column(String(2048))
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Space-separated scopes the client may be granted.
    scope: Mapped[str] = mapped_column(String(1024), default="openid")
    #: ``client_secret_basic``, ``client_secret_post`` or ``none`` (public client),
    #: enforced at every endpoint that authenticates clients.
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), default="client_secret_basic"
    )
    #: First-party clients skip the consent screen.
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    #: PKCE policy. True (default): a S256 code_challenge is required. False relaxes
    #: it only for confidential clients whose OIDC request carries a nonce.
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A resource server that may introspect tokens issued to other clients.
    may_introspect: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Sign-up mode for people arriving through this client, one of SIGNUP_MODES;
    #: null = follow the global ``SIGNUP_MODE`` setting (spec §3.5).
    signup_mode: Mapped[str | None] = mapped_column(String(16))
    #: Second factor for people signing in to this client: "off", "optional" (used when
    #: the person has one) or "required" (enrolled first when missing).
    mfa: Mapped[str] = mapped_column(String(16), default="off", server_default="off")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_public(self) -> bool:
        """A public client has no secret and authenticates with ``none``."""
        return self.token_endpoint_auth_method == "none"

    @property
    def allowed_scopes(self) -> list[str]:
        """The scopes this client may be granted, as a list."""
        return self.scope.split()

    # -- Authlib ClientMixin protocol -------------------------------------------------

    def get_client_id(self) -> str:
        """The public client identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """No default: every authorization request must name its redirect_uri."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes this client may have, or None when none remain."""
        if not scope:
            return None
        allowed = set(self.allowed_scopes)
        granted = [s for s in dict.fromkeys(scope.split()) if s in allowed]
        return " ".join(granted) or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string comparison with the registered URIs (RFC 9700 §4.1.3)."""
        return redirect_uri in self.redirect_uris

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        """Exact string comparison with the registered post-logout URIs."""
        return uri in self.post_logout_redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison of the presented secret's hash."""
        return secret_matches(client_secret, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Only the registered method is accepted, at every endpoint."""
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Only ``code``, for clients allowed the authorization-code grant."""
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """Whether the client registered this grant type."""
        return grant_type in self.grant_types

    def __repr__(self) -> str:
        return f"<Client {self.client_id}>"
