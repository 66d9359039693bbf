"""People who sign in, and the groups and roles they belong to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow

account_groups = Table(
    "account_groups",
    Base.metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

account_roles = Table(
    "account_roles",
    Base.metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


def new_sub() -> str:
    """A fresh, opaque, never-reused subject identifier."""
    return str(uuid.uuid4())


class Account(Base):
    """A person. ``sub`` is the stable OIDC subject; ``id`` never leaves the database."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: OIDC subject identifier (UUID string), unique and never reassigned.
    sub: Mapped[str] = mapped_column(String(64), unique=True, default=new_sub)
    #: Lower-cased email address; unique among accounts.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    #: E.164 phone number; unique among accounts.
    phone_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    given_name: Mapped[str | None] = mapped_column(String(128))
    family_name: Mapped[str | None] = mapped_column(String(128))
    #: argon2id PHC string; null for an account that has not set a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: The WebAuthn user handle given to this person's passkeys: random, never the sub
    #: (an authenticator may show it), made with the first passkey.
    webauthn_handle: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Values of the operator-configured registration fields (spec §3.4).
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: JSON copied from an accepted invitation; exposed as a claim.
    public_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: A disabled account cannot sign in and its tokens stop working.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[Group]] = relationship(secondary=account_groups, back_populates="members")
    roles: Mapped[list[Role]] = relationship(secondary=account_roles, back_populates="members")

    @property
    def name(self) -> str | None:
        """Given and family name joined, or None when neither is known."""
        parts = [p for p in (self.given_name, self.family_name) if p]
        return " ".join(parts) or None

    def get_user_id(self) -> int:
        """Authlib's user protocol: the primary key."""
        return self.id

    def __repr__(self) -> str:
        return f"<Account {self.sub}>"


class Group(Base):
    """A named set of accounts (spec §3.1 ``groups``)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Account]] = relationship(secondary=account_groups, back_populates="groups")


class Role(Base):
    """A named permission set, e.g. ``admin``, ``secondary_admin``, ``user_invite`` (§3.6)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Account]] = relationship(secondary=account_roles, back_populates="roles")


class PhoneCode(Base):
    """A six-digit code sent by SMS to verify an account's mobile number.

    Only a keyed hash of the code is stored (six digits are too few for a plain hash:
    a database dump would give them away); it works once, until ``expires_at``, for
    at most a few wrong guesses, and only for the number it was sent to.
    """

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    #: The E.164 number the code was sent to.
    phone_number: Mapped[str] = mapped_column(String(32))
    #: HMAC-SHA256 of the code, keyed with a key derived from SECRET_KEY.
    code_hash: Mapped[str] = mapped_column(String(64))
    #: Wrong codes entered so far.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
