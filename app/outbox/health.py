"""How the outbox is doing, lane by lane: what waits, since when, what died, and which
webhook endpoints the circuit breaker has parked (for the dashboard and monitoring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox.queue import DEAD, KINDS, PENDING
from app.webhooks.fanout import origin


@dataclass
class LaneHealth:
    """One lane: a kind, or (``endpoint`` set) one webhook endpoint."""

    kind: str
    pending: int = 0
    oldest_pending_at: datetime | None = None
    dead: int = 0
    #: The endpoint's public id and where it points (its origin only: the path or
    #: query of a receiver's URL may hold a token).
    endpoint: str | None = None
    origin: str | None = None
    parked_until: datetime | None = None

    def oldest_pending_age(self, now: datetime) -> timedelta | None:
        """How long the oldest pending item has been waiting."""
        return now - self.oldest_pending_at if self.oldest_pending_at else None

    def is_parked(self, now: datetime) -> bool:
        """Whether the breaker holds this endpoint's deliveries back now."""
        return self.parked_until is not None and self.parked_until > now

    def add(self, other: LaneHealth) -> None:
        """Count ``other`` (an endpoint's lane) into this one (all webhooks)."""
        self.pending += other.pending
        self.dead += other.dead
        if other.oldest_pending_at is not None:
            self.oldest_pending_at = min(
                filter(None, (self.oldest_pending_at, other.oldest_pending_at))
            )


def lanes() -> tuple[list[LaneHealth], list[LaneHealth]]:
    """(one row per kind, one row per webhook endpoint with something pending or dead,
    or parked), and commit (end the read)."""
    kinds = {kind: LaneHealth(kind) for kind in KINDS}
    endpoints = _endpoint_lanes()
    for (kind, endpoint_id), counted in _counted().items():
        if endpoint_id in endpoints:
            endpoints[endpoint_id].add(counted)
        kinds[kind].add(counted)
    db.session.commit()
    now = utcnow()
    busy = [lane for lane in endpoints.values() if lane.pending or lane.dead or lane.is_parked(now)]
    return list(kinds.values()), busy


def _counted() -> dict[tuple[str, int | None], LaneHealth]:
    """Pending (with the oldest) and dead items per kind and endpoint: two grouped
    queries over the outbox's (kind, state, ...) index."""
    counted: dict[tuple[str, int | None], LaneHealth] = {}
    by_lane = (OutboxItem.kind, OutboxItem.endpoint_id)
    pending = select(*by_lane, func.count(), func.min(OutboxItem.created_at)).where(
        OutboxItem.state == PENDING
    )
    for kind, endpoint_id, count, oldest in db.session.execute(pending.group_by(*by_lane)):
        counted[kind, endpoint_id] = LaneHealth(kind, pending=count, oldest_pending_at=oldest)
    dead = select(*by_lane, func.count()).where(OutboxItem.state == DEAD)
    for kind, endpoint_id, count in db.session.execute(dead.group_by(*by_lane)):
        counted.setdefault((kind, endpoint_id), LaneHealth(kind)).dead = count
    return counted


def _endpoint_lanes() -> dict[int, LaneHealth]:
    """A lane per webhook endpoint, with where it points and its breaker state."""
    rows = db.session.execute(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.public_id,
            WebhookEndpoint.url,
            WebhookEndpoint.parked_until,
        )
    )
    return {
        row.id: LaneHealth(
            "webhook", endpoint=row.public_id, origin=origin(row.url), parked_until=row.parked_until
        )
        for row in rows
    }
