"""Browser sign-in sessions and paused authorization requests.

Both live in the database, never in one process's memory, so any instance behind
the load balancer can continue a flow another instance started (spec §7.2).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.base import Base, UTCDateTime, utcnow


class BrowserSession(Base):
    """A signed-in browser. The cookie holds only the opaque ``sid``; signing out
    ends the row, so a copied cookie stops working too."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the opaque session id kept in the (signed) cookie.
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Public, non-secret identifier used as the ``sid`` claim.
    public_sid: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the account page shows of each session (the person's own data): the
    #: browser's User-Agent as it signed in, its address then, and when it was last used.
    user_agent: Mapped[str | None] = mapped_column(String(256))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How the person proved who they are in this session (OIDC ``amr`` values:
    #: "pwd", "hwk"/"swk" for a passkey, "otp", "mfa"); null for sessions from before
    #: it was kept: a password.
    amr: Mapped[list[str] | None] = mapped_column(JSON)

    account: Mapped[Account] = relationship()

    def is_active(self) -> bool:
        """Not ended, not expired, and the account is not disabled."""
        return self.ended_at is None and utcnow() < self.expires_at and not self.account.disabled


class Interaction(Base):
    """A paused authorization request waiting for the person (sign-in, consent).

    ``params`` holds the validated request parameters; resuming re-validates them
    from scratch. The row is bound to the browser that started it.
    """

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Opaque identifier that appears in the interaction URLs.
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the browser-binding secret held in the browser's cookie.
    browser_hash: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when the person signed in for this request (satisfies prompt=login).
    login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_expired(self) -> bool:
        """Whether the pause outlived its lifetime."""
        return utcnow() >= self.expires_at


class SignInFailure(Base):
    """Consecutive failed password checks for one address, across every form that
    checks a password, so guessing is slowed per account and not only per client
    address. Keyed by a hash of the address typed, whether or not an account has it
    (the answer must not tell which addresses exist)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the lower-cased address typed.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: No password is checked for this address before then.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
