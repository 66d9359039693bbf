"""The transactional outbox (spec §5, §6): messages and webhook deliveries written in
the transaction of the change that caused them, delivered later by a worker; webhook
endpoints; and the single-use links that set or reset a password."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.base import Base, UTCDateTime, utcnow


def new_uuid() -> str:
    """A random UUID as text (a stable, public identifier)."""
    return str(uuid.uuid4())


class OutboxItem(Base):
    """One message or webhook delivery to make, at least once.

    ``state`` is ``pending`` (waiting, or being tried by the worker holding the lease),
    ``sent`` or ``dead`` (gave up after ``max_attempts``; an administrator may retry).
    The payload may hold a secret link, so it is stored sealed (app/crypto.py).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        # Each lane claims its own due items (app/outbox/lanes.py): email and SMS by
        # kind, webhooks per endpoint, so no lane scans another's backlog. They also
        # serve every lookup by kind or by endpoint.
        Index("ix_outbox_kind_state_next_attempt_at", "kind", "state", "next_attempt_at"),
        Index(
            "ix_outbox_endpoint_id_state_next_attempt_at", "endpoint_id", "state", "next_attempt_at"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stable across retries: the email's Message-ID, the webhook's ``webhook-id``.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: ``email``, ``sms`` or ``webhook``.
    kind: Mapped[str] = mapped_column(String(16))
    #: What it is about, for people reading the list: a template key or an event type.
    topic: Mapped[str] = mapped_column(String(64))
    #: Where it goes, for display (an address, a number, an endpoint URL).
    recipient: Mapped[str] = mapped_column(String(2048))
    #: Fernet-sealed JSON: everything the sender needs (rendered text, signed body ...).
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A worker that claimed the item holds it until then; past it, another may.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True
    )
    #: Indexed: purging an event sets this to null, which must not scan the outbox.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The id of the request that queued it (copied onto every attempt), so an operator
    #: can follow a request to its deliveries; None outside a request.
    request_id: Mapped[str | None] = mapped_column(String(64))

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="item", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<OutboxItem {self.kind} {self.public_id} {self.state}>"


class DeliveryAttempt(Base):
    """One try at delivering an outbox item: when, how long, and what came back."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_outbox_id_id", "outbox_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latency_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    #: HTTP status (webhooks, SMS provider) or SMTP reply code, when there was one.
    status_code: Mapped[int | None] = mapped_column(Integer)
    #: The start of the answer, for diagnosis (never the payload we sent).
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    worker: Mapped[str | None] = mapped_column(String(64))
    #: The item's ``request_id``: the request that caused this delivery.
    request_id: Mapped[str | None] = mapped_column(String(64))

    item: Mapped[OutboxItem] = relationship(back_populates="attempt_log")


class WebhookEndpoint(Base):
    """A receiver of events (spec §6), signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    url: Mapped[str] = mapped_column(String(2048))
    #: The signing secret (``whsec_...``), sealed: it must be read back to sign.
    secret_sealed: Mapped[str] = mapped_column(Text)
    #: Event types delivered to it (spec §6 names).
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(256))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    #: The circuit breaker (app/outbox/breaker.py): failed deliveries in a row, and
    #: until when the endpoint is parked (its deliveries wait, no attempt is made).
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    parked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordToken(Base):
    """A single-use link to reset (``reset``) or first set (``set``) a password, or to
    verify an email address (``verify_email``).

    Only the SHA-256 of the token is stored; it ends when used or at ``expires_at``.
    """

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The address a ``verify_email`` link was sent to, which following it verifies: the
    #: account's email, or the new one asked for on the account page (which becomes the
    #: account's email only then). Null for password links and older links: the
    #: account's email.
    address: Mapped[str | None] = mapped_column(String(320))

    account: Mapped[Account] = relationship()

    def usable(self, now: datetime) -> bool:
        """Not used yet and not expired."""
        return self.used_at is None and self.expires_at > now
