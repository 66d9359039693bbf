"""Queueing an event for the webhook endpoints subscribed to it (spec §6).

The body is serialised here, once: every attempt, retry and replay sends the same
bytes, which a receiver deduplicating on ``webhook-id`` may rely on.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Event, WebhookEndpoint
from app.outbox.queue import enqueue

KIND = "webhook"


def fan_out(event: Event) -> int:
    """Enqueue ``event`` (already in the session) for every enabled endpoint subscribed
    to its type; returns how many deliveries were queued."""
    # No autoflush: with no subscriber this query is the only cost of an event, and
    # the caller's pending changes stay unflushed until it commits, as before.
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.event_types).where(
                WebhookEndpoint.enabled.is_(True)
            )
        ).all()
    subscribed = [row for row in rows if event.type in (row.event_types or ())]
    if not subscribed:
        return 0
    db.session.flush()  # the event's id, which its deliveries point to
    payload = {"body": body_of(event)}
    for row in subscribed:
        # The listing shows where an item goes: the origin only, as the audit log does
        # (a receiver's path or query may hold a token). The sender reads the endpoint.
        recipient = origin(row.url)
        enqueue(KIND, event.type, recipient, payload, event_id=event.id, endpoint_id=row.id)
    return len(subscribed)


def origin(url: str) -> str:
    """Where ``url`` points, without its path or query (which may hold a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


def body_of(event: Event) -> str:
    """The JSON body delivered for ``event``: ``type``, ``timestamp`` and ``data``."""
    data: dict[str, Any] = {**(event.data or {}), "actor": event.actor}
    if event.from_state is not None:
        data["from_state"] = event.from_state
    if event.to_state is not None:
        data["to_state"] = event.to_state
    message = {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(message, separators=(",", ":"))
