"""Delivery lanes: each lane claims its own due items, so no lane waits behind another.

A lane is ``email``, ``sms``, or ``webhook`` for one endpoint. Claiming leases items
to a worker in a short transaction of its own (``locked_until``, ``locked_by``, one
attempt counted); delivery happens later, outside any transaction.

Webhook lanes are claimed only as far as the endpoint may take more deliveries: at
most OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY in flight from all workers together (an
item leased and not yet finished is in flight), one while the endpoint is half-open,
none while its circuit breaker parks it (app/outbox/breaker.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint
from app.outbox import breaker
from app.outbox.queue import PENDING

#: Lanes with one queue for all their items (webhooks have one per endpoint).
MESSAGE_KINDS = ("email", "sms")
WEBHOOK = "webhook"


def claimable(now: datetime):
    """SQL condition: pending, due, and leased to nobody (or the lease ran out)."""
    return and_(
        OutboxItem.state == PENDING,
        OutboxItem.next_attempt_at <= now,
        _unleased(now),
    )


def _unleased(now: datetime):
    return or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now)


def claim(lane, worker: str, limit: int, now: datetime) -> list[int]:
    """Lease up to ``limit`` claimable items matching the SQL condition ``lane`` to
    ``worker``, oldest due first, and commit; returns the ids this worker got."""
    due = (
        select(OutboxItem.id)
        .where(claimable(now), lane)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if not ids:
        db.session.commit()
        return []
    until = now + timedelta(seconds=current_app.config["OUTBOX_LEASE"])
    # The same conditions again: on SQLite (no SKIP LOCKED) two workers may pick the
    # same ids, and only one of them gets each row here.
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.state == PENDING, _unleased(now))
        .values(locked_until=until, locked_by=worker, attempts=OutboxItem.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.id.in_(ids), OutboxItem.locked_by == worker)
            .where(OutboxItem.locked_until == until)
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        )
    )


def message_lane(kind: str):
    """The SQL condition of the ``email`` or ``sms`` lane."""
    return OutboxItem.kind == kind


def due_endpoints(now: datetime) -> list[int]:
    """Endpoints not parked that have claimable deliveries, the longest waiting first."""
    oldest = (
        select(func.min(OutboxItem.next_attempt_at))
        .where(OutboxItem.endpoint_id == WebhookEndpoint.id, claimable(now))
        .scalar_subquery()
    )
    waiting = (
        select(WebhookEndpoint.id.label("id"), oldest.label("oldest"))
        .where(breaker.not_parked(now))
        .subquery()
    )
    query = select(waiting.c.id).where(waiting.c.oldest.is_not(None))
    return list(db.session.scalars(query.order_by(waiting.c.oldest, waiting.c.id)))


def claim_endpoint(endpoint_id: int, worker: str, limit: int, now: datetime) -> list[int]:
    """Lease deliveries to one endpoint, as many as it may take now (at most
    ``limit``), and commit; returns the ids this worker got."""
    room = min(limit, _endpoint_room(endpoint_id, now))
    if room <= 0:
        db.session.commit()
        return []
    lane = and_(OutboxItem.kind == WEBHOOK, OutboxItem.endpoint_id == endpoint_id)
    return claim(lane, worker, room, now)


def _endpoint_room(endpoint_id: int, now: datetime) -> int:
    """How many more deliveries may start to this endpoint (0 while parked)."""
    endpoint = _lock_endpoint(endpoint_id)
    if endpoint is None or (endpoint.parked_until is not None and endpoint.parked_until > now):
        return 0
    cap = (
        1
        if breaker.is_half_open(endpoint)
        else current_app.config["OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY"]
    )
    in_flight = db.session.scalar(
        select(func.count())
        .select_from(OutboxItem)
        .where(
            OutboxItem.endpoint_id == endpoint_id,
            OutboxItem.state == PENDING,
            OutboxItem.locked_until >= now,
        )
    )
    return cap - (in_flight or 0)


def _lock_endpoint(endpoint_id: int) -> WebhookEndpoint | None:
    """The endpoint's row, locked on PostgreSQL until the claim commits: workers
    claiming for one endpoint take turns, so together they keep its in-flight cap.
    None when it is gone, or (PostgreSQL) another worker is claiming for it now."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query.execution_options(populate_existing=True))


def release(item_ids: list[int], worker: str) -> None:
    """Hand items claimed by ``worker`` but never tried back to the queue, their
    claim's attempt not counted, and commit (a worker that stops does this)."""
    db.session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(item_ids),
            OutboxItem.state == PENDING,
            OutboxItem.locked_by == worker,
        )
        .values(locked_until=None, locked_by=None, attempts=OutboxItem.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
