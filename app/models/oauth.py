"""Protocol state: authorization codes, tokens, remembered consents, signing keys.

Codes and tokens are stored as SHA-256 hashes only. The classes implement
Authlib's ``AuthorizationCodeMixin`` and ``TokenMixin`` protocols by duck typing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.base import Base, UTCDateTime, utcnow
from app.models.clients import Client


def new_family_id() -> str:
    """Identifier shared by every token descending from one grant."""
    return str(uuid.uuid4())


class AuthorizationCode(Base):
    """A single-use code bound to client, redirect_uri, PKCE challenge and account."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(1024))
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    #: When the person authenticated (the ``auth_time`` claim).
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Browser session the code was issued in (the ``sid`` claim).
    session_id: Mapped[str | None] = mapped_column(String(64))
    #: How the person signed in, copied from the session (the ``amr`` claim; ``acr``
    #: follows from it); null for codes from before it was kept: a password.
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    #: Tokens issued from this code carry the same family id, so a replayed code
    #: can revoke them (RFC 6749 §4.1.2).
    family_id: Mapped[str] = mapped_column(String(36), default=new_family_id, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set once, atomically, by the redemption that wins.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    account: Mapped[Account] = relationship()

    def is_expired(self) -> bool:
        """Whether the code's short lifetime has passed."""
        return utcnow() >= self.expires_at

    # -- Authlib AuthorizationCodeMixin protocol -------------------------------------

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None  # app/oauth/openid.py derives it from amr

    def get_amr(self) -> list[str]:
        return list(self.amr or ["pwd"])


class Token(Base):
    """An access token and, optionally, its refresh token, both stored hashed."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    #: Null for client-credentials tokens, which act for the client itself.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(1024), default="")
    family_id: Mapped[str] = mapped_column(String(36), default=new_family_id, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    access_token_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    access_token_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the refresh token was exchanged; presenting it again is a replay.
    refresh_token_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    account: Mapped[Account | None] = relationship()

    #: Which of the two secrets a lookup matched ("access_token" or "refresh_token");
    #: set by the lookup, not stored.
    presented: str = "access_token"

    def is_expired(self) -> bool:
        """Whether the presented token's lifetime has passed."""
        expires = (
            self.refresh_token_expires_at
            if self.presented == "refresh_token"
            else self.access_token_expires_at
        )
        return expires is None or utcnow() >= expires

    def is_revoked(self) -> bool:
        """Whether the presented token was revoked (or its account disabled)."""
        if self.account is not None and self.account.disabled:
            return True
        if self.presented == "refresh_token":
            return (
                self.refresh_token_revoked_at is not None
                or self.refresh_token_rotated_at is not None
            )
        return self.access_token_revoked_at is not None

    # -- Authlib TokenMixin protocol --------------------------------------------------

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.access_token_expires_at - self.issued_at).total_seconds())

    def get_user(self) -> Account | None:
        return self.account

    def get_client(self) -> Client:
        return self.client


class Consent(Base):
    """Scopes a person granted a third-party client, remembered for next time."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("account_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    #: Space-separated scopes granted so far.
    scope: Mapped[str] = mapped_column(String(1024), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def covers(self, scope: str) -> bool:
        """Whether every scope in ``scope`` was granted before."""
        return set(scope.split()) <= set(self.scope.split())


class SigningKey(Base):
    """A key pair that signs ID tokens, moving through four states in order.

    ``next`` is published in the JWKS but does not sign yet, so relying parties can
    fetch it before it is used; ``current`` signs (one at a time); ``previous`` stays
    published so tokens it signed still verify; ``retired`` has left the JWKS.
    """

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The RFC 7638 thumbprint of the public key; a key never changes under its kid.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(8), default="RS256")
    #: ``next``, ``current``, ``previous`` or ``retired``.
    state: Mapped[str] = mapped_column(String(16), default="next")
    #: The JWKS entry, in clear: public members only, with ``kid``, ``use`` and ``alg``.
    public_jwk: Mapped[dict] = mapped_column(JSON)
    #: The private JWK as JSON, sealed with a key derived from SECRET_KEY (app/crypto.py).
    private_jwk_sealed: Mapped[str] = mapped_column(Text)
    #: When the key was made, and so first published.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the key leaves the JWKS.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
