"""Webhook endpoints (spec §6): a URL, the event types it receives, and the secret
that signs every delivery (Standard Webhooks). The secret is shown once, when it is
made, and stored sealed: the server must read it back to sign. Also the endpoint's
deliveries: listed with their attempt log, and replayed.

The endpoint's settings are checked in app/webhooks/checks.py."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app import events
from app.crypto import seal, unseal
from app.errors import Conflict, NotFound
from app.extensions import db
from app.lookup import by_public_id
from app.models import DeliveryAttempt, OutboxItem, WebhookEndpoint
from app.outbox import queue
from app.pagination import Page, keyset_page
from app.webhooks.checks import WebhookError, check_description, check_event_types, check_url
from app.webhooks.fanout import KIND

#: Settings ``update`` accepts.
UPDATABLE = frozenset({"url", "event_types", "enabled", "description"})
_SECRET_PURPOSE = "webhook-secret"
_SECRET_PREFIX = "whsec_"


class WebhookNotFound(NotFound):
    """No webhook endpoint, or no webhook delivery, with that id (404)."""


@dataclass
class Issued:
    """An endpoint right after creation or rotation, with its secret in clear."""

    endpoint: WebhookEndpoint
    secret: str


# -- secrets ---------------------------------------------------------------------------


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_of(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, unsealed."""
    return unseal(endpoint.secret_sealed, _SECRET_PURPOSE)


# -- endpoints -------------------------------------------------------------------------


def create(
    url: str, event_types: Iterable[str], actor: str, description: str | None = None
) -> Issued:
    """Register and commit an endpoint; the answer carries its secret, shown only once."""
    secret = new_signing_secret()
    endpoint = WebhookEndpoint(
        url=check_url(url),
        event_types=check_event_types(event_types),
        description=check_description(description),
        secret_sealed=seal(secret, _SECRET_PURPOSE),
        enabled=True,
        created_by=actor,
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit("webhook.created", actor, endpoint, event_types=endpoint.event_types)
    db.session.commit()
    return Issued(endpoint, secret)


def find(public_id: str) -> WebhookEndpoint:
    """The endpoint with this id, or WebhookNotFound."""
    endpoint = by_public_id(WebhookEndpoint, public_id)
    if endpoint is None:
        raise WebhookNotFound(f"no webhook endpoint {public_id}")
    return endpoint


def page_of_endpoints(after: int | None = None, limit: int = 50) -> Page:
    """Endpoints, oldest first, one page at a time."""
    return keyset_page(select(WebhookEndpoint), WebhookEndpoint.id, after, limit)


def update(public_id: str, changes: dict[str, Any], actor: str) -> WebhookEndpoint:
    """Change an endpoint's url, event types, enabled flag or description and commit;
    every value is checked before anything changes."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise WebhookError(f"cannot change {', '.join(sorted(unknown))}")
    endpoint = find(public_id)
    values = dict(changes)
    if "url" in values:
        values["url"] = check_url(values["url"])
    if "event_types" in values:
        values["event_types"] = check_event_types(values["event_types"])
    if "description" in values:
        values["description"] = check_description(values["description"])
    if "enabled" in values and not isinstance(values["enabled"], bool):
        raise WebhookError("enabled: true or false", field="enabled")
    if not values:
        return endpoint
    for key, value in values.items():
        setattr(endpoint, key, value)
    _audit("webhook.updated", actor, endpoint, fields=sorted(values))
    db.session.commit()
    return endpoint


def rotate_secret(public_id: str, actor: str) -> Issued:
    """Give an endpoint a new secret, shown only once; the old one stops signing at
    once (deliveries still queued are signed with the new one)."""
    endpoint = find(public_id)
    secret = new_signing_secret()
    endpoint.secret_sealed = seal(secret, _SECRET_PURPOSE)
    _audit("webhook.secret_rotated", actor, endpoint)
    db.session.commit()
    return Issued(endpoint, secret)


def remove(public_id: str, actor: str) -> None:
    """Delete an endpoint with its deliveries and their attempt log."""
    endpoint = find(public_id)
    _audit("webhook.deleted", actor, endpoint)
    # Explicit, because SQLite here does not enforce the foreign keys' ON DELETE CASCADE.
    items = select(OutboxItem.id).where(OutboxItem.endpoint_id == endpoint.id)
    db.session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(items)))
    db.session.execute(delete(OutboxItem).where(OutboxItem.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.commit()


def _audit(type_: str, actor: str, endpoint: WebhookEndpoint, **data: Any) -> None:
    # The host only: a receiver's URL may carry a token in its path or query.
    host = urlsplit(endpoint.url).hostname
    events.record(type_, actor, endpoint_id=endpoint.public_id, host=host, **data)


# -- deliveries ------------------------------------------------------------------------


def deliveries(
    public_id: str, *, state: str | None = None, after: int | None = None, limit: int = 50
) -> Page:
    """The endpoint's deliveries with their attempt log, newest first; ``after`` (a
    page's ``next_after``) continues the listing."""
    endpoint = find(public_id)
    stmt = (
        select(OutboxItem)
        .where(OutboxItem.endpoint_id == endpoint.id)
        .options(selectinload(OutboxItem.attempt_log))
    )
    if state is not None:
        stmt = stmt.where(OutboxItem.state == state)
    return keyset_page(stmt, OutboxItem.id, after, limit, descending=True)


def find_delivery(delivery_id: str) -> OutboxItem:
    """The webhook delivery with this id, or WebhookNotFound."""
    try:
        item = queue.find(delivery_id)
    except queue.OutboxItemNotFound:
        item = None
    if item is None or item.kind != KIND:
        raise WebhookNotFound(f"no webhook delivery {delivery_id}")
    return item


def replay(delivery_id: str) -> OutboxItem:
    """Deliver a dead (or sent) delivery again, from now, with the same ``webhook-id``."""
    item = find_delivery(delivery_id)
    endpoint = db.session.get(WebhookEndpoint, item.endpoint_id) if item.endpoint_id else None
    if endpoint is None or not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it before replaying its deliveries")
    return queue.requeue(item.public_id)


def message_id(item: OutboxItem) -> str:
    """The ``webhook-id`` of a delivery: the same on every attempt and replay."""
    return f"msg_{item.public_id}"
