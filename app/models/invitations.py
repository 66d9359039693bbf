"""Invitations (spec §3.1), the audit trail of events, and idempotent API requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Group, Role
from app.models.base import Base, UTCDateTime, utcnow
from app.models.clients import Client

invitation_groups = Table(
    "invitation_groups",
    Base.metadata,
    Column("invitation_id", ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves lookups by invitation; this one the ``group`` filter.
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True),
)

invitation_roles = Table(
    "invitation_roles",
    Base.metadata,
    Column("invitation_id", ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


#: Columns the ``q`` filter searches, and the operator class that indexes them.
TEXT_SEARCH_COLUMNS = ("email", "mobile_number", "given_name", "family_name")
TRIGRAM_OPS = "public.gin_trgm_ops"


def new_public_id() -> str:
    """The invitation's public identifier (not a secret)."""
    return str(uuid.uuid4())


class Invitation(Base):
    """An invitation to register. The secret token is stored only as a hash."""

    __tablename__ = "invitations"
    __table_args__ = (
        Index("ix_invitations_state_created_at", "state", "created_at"),
        Index("ix_invitations_client_id_created_at", "client_id", "created_at"),
        # The admin API pages through (sort value, id) keysets (app/invitations/queries.py).
        Index("ix_invitations_created_at_id", "created_at", "id"),
        Index("ix_invitations_expires_at_id", "expires_at", "id"),
        # Free-text search (ILIKE '%q%') on PostgreSQL: a trigram GIN index. pg_trgm
        # lives in schema public (see _create_trigram_extension); SQLite, which ignores
        # the postgresql_* options, gets a plain index it does not need but keeps the
        # schema the same on both backends.
        Index(
            "ix_invitations_text_search",
            *TEXT_SEARCH_COLUMNS,
            postgresql_using="gin",
            postgresql_ops=dict.fromkeys(TEXT_SEARCH_COLUMNS, TRIGRAM_OPS),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Public identifier used by the admin API and in events.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    #: SHA-256 of the secret token (``invite_id`` in links; 192 random bits).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The short link ``/i/<token>`` redirects until then (spec §2.2, default 7 days).
    short_link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Lower-cased email, if invited by email.
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    #: E.164 number, if invited by phone.
    mobile_number: Mapped[str | None] = mapped_column(String(32), index=True)
    given_name: Mapped[str | None] = mapped_column(String(128))
    family_name: Mapped[str | None] = mapped_column(String(128))
    #: The client the person is invited to; null for Vestibule-hosted registration.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    #: Where a client-less invitation lands after registration (allow-listed).
    redirect_url: Mapped[str | None] = mapped_column(String(2048))
    #: Pre-fill values for the configured registration fields (§3.4).
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Copied onto the account on acceptance.
    public_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The registering person must use the invited email (always, for an invitation
    #: granting a built-in role).
    allow_same_email: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The creator vouched that the email is the invitee's (a client with users:verify,
    #: an admin): verified on registration although no message was delivered there.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    #: For a person who already has an account (``existing_account: "join"``): the link
    #: leads to sign-in, and acceptance grants groups, roles, fields and metadata to that
    #: account without touching its password or profile.
    existing_account: Mapped[bool] = mapped_column(Boolean, default=False)
    template_key: Mapped[str] = mapped_column(String(64), default="invite_user")
    lang: Mapped[str] = mapped_column(String(16), default="en")
    #: ``lang`` was asked for (given, or the API caller's Accept-Language), not
    #: defaulted: the invitee's pages then speak it; otherwise they follow the invitee's
    #: browser (the dashboard's "Automatic"), and messages go out in ``lang``.
    lang_chosen: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Send the message (true) or only return the link to the caller.
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    #: initiated, reinitiated, accepted, revoked, rejected, expired (see states.py).
    state: Mapped[str] = mapped_column(String(16), default="initiated", index=True)
    #: "<address>|<client>" while the invitation is pending, null once terminal: the
    #: unique constraint forbids two pending invitations for one address and client.
    pending_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    #: Who created it: "account:<sub>" or "client:<client_id>" (or "cli").
    invited_by: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resent_count: Mapped[int] = mapped_column(Integer, default=0)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_sub: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[Client | None] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary=invitation_groups)
    roles: Mapped[list[Role]] = relationship(secondary=invitation_roles)

    def __repr__(self) -> str:
        return f"<Invitation {self.public_id} {self.state}>"


@event.listens_for(Invitation.__table__, "before_create")
def _create_trigram_extension(target, connection, **kw) -> None:
    """``create_all`` on PostgreSQL: the trigram index needs pg_trgm (migration 0003
    does the same). Installed in public so every schema (a test run's too) finds it."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))


class Event(Base):
    """One thing that happened (spec §6): the audit log, kept 365 days by default."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_invitation_id_id", "invitation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. invitation.created, invitation.accepted, user.created.
    type: Mapped[str] = mapped_column(String(64), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE")
    )
    #: Who caused it, as in ``Invitation.invited_by``; "system" for expiry sweeps.
    actor: Mapped[str] = mapped_column(String(128))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    #: Event-specific details (e.g. the accepted account's ``sub``).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotentRequest(Base):
    """A remembered answer to a POST sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    #: HMAC of the caller's key (app/api/idempotency.py), not the key itself.
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of method, path and body: the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    #: The answer, encrypted with a key derived from the caller's key (it holds a link).
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkExport(Base):
    """The links of invitations made in bulk without a message, kept sealed for a short
    time so the person who made them can download them once, as a CSV file.

    The links exist only in the request that created the invitations (only their
    tokens' hashes are stored), so they are kept here, encrypted (``app.crypto.seal``),
    until downloaded or expired: a database dump shows no link.
    """

    __tablename__ = "link_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the download's secret id (the id is only in the creator's page).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Who may download it, as in ``Invitation.invited_by``.
    owner: Mapped[str] = mapped_column(String(128))
    #: The CSV file, sealed.
    sealed_csv: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
