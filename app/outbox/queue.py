"""Putting items in the outbox and managing them (spec §5, §6).

``enqueue`` adds a row to the *current* session: the caller commits it together
with the change that caused it (creating an invitation, recording an event), so a
message exists exactly when its cause does. Nothing here talks to the network.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g
from sqlalchemy import func, select

from app.crypto import seal, unseal
from app.errors import Conflict, NotFound
from app.extensions import db
from app.lookup import by_public_id
from app.models import OutboxItem, utcnow
from app.pagination import Page, keyset_page

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATES = (PENDING, SENT, DEAD)
KINDS = ("email", "sms", "webhook")
_PURPOSE = "outbox-payload"


class OutboxItemNotFound(NotFound):
    """No outbox item with that id."""


def enqueue(
    kind: str,
    topic: str,
    recipient: str,
    payload: dict[str, Any],
    *,
    invitation_id: int | None = None,
    event_id: int | None = None,
    endpoint_id: int | None = None,
) -> OutboxItem:
    """Add an item to the session (the caller's transaction commits it), stamped with
    the id of the request that caused it."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    item = OutboxItem(
        kind=kind,
        topic=topic,
        recipient=recipient[:2048],
        payload=seal(json.dumps(payload), _PURPOSE),
        state=PENDING,
        attempts=0,
        max_attempts=current_app.config["OUTBOX_MAX_ATTEMPTS"],
        next_attempt_at=utcnow(),
        invitation_id=invitation_id,
        event_id=event_id,
        endpoint_id=endpoint_id,
        request_id=current_request_id(),
    )
    db.session.add(item)
    return item


def current_request_id() -> str | None:
    """The id of the request being served (``g.request_id``), if any, as stored."""
    request_id = g.get("request_id")
    return str(request_id)[:64] if request_id else None


def payload_of(item: OutboxItem) -> dict[str, Any]:
    """The item's payload, unsealed."""
    return json.loads(unseal(item.payload, _PURPOSE))


def find(public_id: str) -> OutboxItem:
    """The item with this public id, or OutboxItemNotFound."""
    item = by_public_id(OutboxItem, public_id)
    if item is None:
        raise OutboxItemNotFound(f"no outbox item {public_id}")
    return item


def requeue(public_id: str) -> OutboxItem:
    """Try a dead item again, or deliver a sent one once more (a replay), from now.

    The item keeps its public id, so a receiver that deduplicates on it (webhook-id)
    can tell a replay from a new delivery. Its attempt log is kept.
    """
    item = find(public_id)
    if item.state == PENDING:
        raise Conflict("this item is still pending delivery", state=item.state)
    item.state = PENDING
    item.attempts = 0
    item.next_attempt_at = utcnow()
    item.locked_until = None
    item.locked_by = None
    item.dead_at = None
    db.session.commit()
    return item


def listing(
    state: str | None = None,
    kind: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """Items filtered by state and kind, newest first, one page at a time (``after``: a
    page's ``next_after``)."""
    query = select(OutboxItem)
    if state:
        query = query.where(OutboxItem.state == state)
    if kind:
        query = query.where(OutboxItem.kind == kind)
    return keyset_page(query, OutboxItem.id, after, limit, descending=True)


def counts() -> dict[str, int]:
    """How many items are in each state."""
    found = dict(
        db.session.execute(select(OutboxItem.state, func.count()).group_by(OutboxItem.state)).all()
    )
    return {state: found.get(state, 0) for state in STATES}
