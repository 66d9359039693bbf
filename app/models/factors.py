"""What a person signs in with besides a password: passkeys (WebAuthn credentials), a
TOTP authenticator and its one-time recovery codes (issue 16).

Only what verifying needs is stored: a passkey's public key, the TOTP secret sealed
with a key derived from SECRET_KEY (app/crypto.py), recovery codes as keyed hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.base import Base, UTCDateTime, utcnow


class Passkey(Base):
    """A WebAuthn credential registered by a person (a passkey)."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    #: The authenticator's credential id, base64url without padding.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    #: The COSE public key, as the authenticator gave it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: The authenticator's signature counter (0 for those that keep none); a sign-in
    #: whose counter does not grow past a non-zero one is refused.
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    #: How the browser may reach it ("internal", "hybrid", "usb" ...).
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The authenticator model's AAGUID (all zeros when it keeps it private).
    aaguid: Mapped[str | None] = mapped_column(String(36))
    #: Whether the credential is synced between devices (backup eligible): "swk" in amr
    #: when it is, "hwk" (bound to one device) when not.
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The person's name for it ("Laptop", "Phone").
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


class TotpFactor(Base):
    """A person's TOTP authenticator (RFC 6238): one per account. It counts once its
    enrolment is confirmed with a first code."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    #: The shared secret (base32), sealed (app.crypto.seal, purpose "totp").
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The time step of the last code accepted: a code is good once, and never one
    #: from an earlier step.
    last_step: Mapped[int | None] = mapped_column(Integer)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor (a keyed hash of it)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpentChallenge(Base):
    """The challenge of a passkey sign-in: the same answer sent again, from a copy of the
    cookie that held the challenge, is refused. Kept until the challenge would have
    expired anyway (``vestibule purge`` removes it a day later)."""

    __tablename__ = "spent_challenges"

    #: SHA-256 of the challenge, hex (the challenge is random: no key is needed).
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
