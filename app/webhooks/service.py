"""Webhook endpoints (spec §6): a URL, the event types it receives, and the secret
that signs every delivery (Standard Webhooks). The secret is shown once, when it is
made, and stored sealed: the server must read it back to sign."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app import events
from app.crypto import seal, unseal
from app.errors import Conflict, DomainError, NotFound
from app.events import WEBHOOK_EVENT_TYPES
from app.extensions import db
from app.lookup import by_public_id
from app.models import DeliveryAttempt, OutboxItem, WebhookEndpoint
from app.outbox import queue
from app.pagination import Page, keyset_page
from app.webhooks.fanout import KIND

#: Longest URL and description accepted (the columns' lengths).
URL_LENGTH = 2048
DESCRIPTION_LENGTH = 256
#: Settings ``update`` accepts.
UPDATABLE = frozenset({"url", "event_types", "enabled", "description"})
_SECRET_PURPOSE = "webhook-secret"
_SECRET_PREFIX = "whsec_"


class WebhookError(DomainError):
    """Endpoint settings that cannot be registered (400); the message is safe to show."""


class WebhookNotFound(NotFound):
    """No webhook endpoint, or no webhook delivery, with that id (404)."""


@dataclass
class Issued:
    """An endpoint right after creation or rotation, with its secret in clear."""

    endpoint: WebhookEndpoint
    secret: str


# -- checks ------------------------------------------------------------------------------


def check_url(url: Any) -> str:
    """An absolute http(s) URL with a host, ASCII, no credentials, no fragment."""
    if not isinstance(url, str) or not url or len(url) > URL_LENGTH:
        raise WebhookError(f"url: 1 to {URL_LENGTH} characters", field="url")
    if not url.isascii() or any(char.isspace() or ord(char) < 0x20 for char in url):
        raise WebhookError(
            "url: ASCII without spaces (percent-encode the path, punycode the host)", field="url"
        )
    try:
        parts = urlsplit(url)
        hostname, _ = parts.hostname, parts.port  # .port refuses a non-numeric port
    except ValueError:
        raise WebhookError(f"url: not a valid URL: {url!r}", field="url") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise WebhookError(f"url: must be http:// or https:// with a host: {url!r}", field="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("url: must not carry credentials (user:password@)", field="url")
    if parts.fragment:
        raise WebhookError("url: must not have a fragment", field="url")
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] and _names_private(hostname):
        raise WebhookError(
            "url: must not point at a loopback, private or link-local address", field="url"
        )
    return url


def _names_private(hostname: str) -> bool:
    name = hostname.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _written_address(name)
    # A name, not an address, is checked each time it is resolved, at delivery.
    return address is not None and not is_public_address(address)


def _written_address(host: str) -> str | None:
    """The IP address ``host`` spells, if it spells one: besides the usual forms, the
    IPv4 spellings resolvers still accept (``2130706433``, ``0x7f000001``, ``127.1``,
    ``0177.0.0.1``), which ``ipaddress`` does not."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


#: IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-compatible
#: (``::a.b.c.d``) and NAT64's well-known prefix, which reaches that IPv4 host.
_EMBEDDING_IPV4 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))


def is_public_address(address: str) -> bool:
    """Whether an IP address is a public one (not loopback, private, link-local,
    multicast, reserved or unspecified), looking through IPv6 forms that embed an
    IPv4 address (mapped, 6to4, NAT64, IPv4-compatible); ValueError when ``address``
    is not an address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_event_types(types: Any) -> list[str]:
    """A non-empty list of spec §6 event types, duplicates removed, order kept."""
    if isinstance(types, str) or not isinstance(types, Iterable):
        raise WebhookError("event_types: a list of event types", field="event_types")
    values = list(dict.fromkeys(types))
    if not values:
        raise WebhookError("event_types: name at least one event type", field="event_types")
    unknown = [value for value in values if value not in WEBHOOK_EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"unknown event types: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(WEBHOOK_EVENT_TYPES)})",
            field="event_types",
        )
    return values


def check_description(description: Any) -> str | None:
    """None, or a short text (an empty one counts as none)."""
    if description is None or description == "":
        return None
    if not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH:
        raise WebhookError(
            f"description: at most {DESCRIPTION_LENGTH} characters", field="description"
        )
    if "\x00" in description:
        raise WebhookError("description: must not contain NUL characters", field="description")
    return description


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
    public_id: str, *, state: str | None = None, before: int | None = None, limit: int = 50
) -> Page:
    """The endpoint's deliveries with their attempt log, newest first; ``before``
    (a page's ``next_after``) continues the listing."""
    endpoint = find(public_id)
    stmt = (
        select(OutboxItem)
        .where(OutboxItem.endpoint_id == endpoint.id)
        .options(selectinload(OutboxItem.attempt_log))
        .order_by(OutboxItem.id.desc())
        .limit(limit + 1)
    )
    if state is not None:
        stmt = stmt.where(OutboxItem.state == state)
    if before is not None:
        stmt = stmt.where(OutboxItem.id < before)
    rows = list(db.session.scalars(stmt))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, rows[-1].id)


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
