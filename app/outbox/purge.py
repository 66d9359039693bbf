"""Deleting what has outlived its use: the audit log past its retention (spec §6),
delivered outbox items, and expired short-lived rows."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from app.extensions import db
from app.models import (
    AuthorizationCode,
    BrowserSession,
    DeliveryAttempt,
    Event,
    IdempotentRequest,
    Interaction,
    OutboxItem,
    PasswordToken,
    SpentChallenge,
    utcnow,
)

#: Expired rows that only matter briefly are kept this long for diagnosis.
GRACE = timedelta(days=1)


def purge_old() -> dict[str, int]:
    """Delete old rows in one transaction; returns how many per kind."""
    config = current_app.config
    now = utcnow()
    old_sent = and_(
        OutboxItem.state == "sent",
        OutboxItem.sent_at < now - timedelta(days=config["OUTBOX_RETENTION_DAYS"]),
    )
    statements = {
        "events": delete(Event).where(
            Event.occurred_at < now - timedelta(days=config["EVENT_RETENTION_DAYS"])
        ),
        # The attempts first: SQLite does not enforce ON DELETE CASCADE here, and a
        # reused outbox id would otherwise show an old item's attempts.
        "delivery attempts": delete(DeliveryAttempt).where(
            DeliveryAttempt.outbox_id.in_(select(OutboxItem.id).where(old_sent))
        ),
        "outbox (sent)": delete(OutboxItem).where(old_sent),
        "idempotency records": delete(IdempotentRequest).where(
            IdempotentRequest.created_at < now - timedelta(seconds=config["IDEMPOTENCY_TTL"])
        ),
        "paused authorization requests": delete(Interaction).where(
            Interaction.expires_at < now - GRACE
        ),
        "authorization codes": delete(AuthorizationCode).where(
            AuthorizationCode.expires_at < now - GRACE
        ),
        "browser sessions": delete(BrowserSession).where(
            or_(BrowserSession.expires_at < now - GRACE, BrowserSession.ended_at < now - GRACE)
        ),
        "password links": delete(PasswordToken).where(
            or_(PasswordToken.expires_at < now - GRACE, PasswordToken.used_at < now - GRACE)
        ),
        # Past its expiry a challenge is refused anyway; the day of grace covers
        # servers whose clocks disagree.
        "spent passkey challenges": delete(SpentChallenge).where(
            SpentChallenge.expires_at < now - GRACE
        ),
    }
    counts = {
        name: db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
        for name, stmt in statements.items()
    }
    db.session.commit()
    return counts
