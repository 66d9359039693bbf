"""Delivering one webhook (spec §6): POST the queued body, signed per Standard
Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

The outbox worker calls ``send`` for every attempt and records what it returns.
A 2xx answer is a delivery; any other answer, a redirect included, or a network
error is retried; a disabled or deleted endpoint ends the delivery (``dead``).
"""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox import http as outbox_http
from app.outbox.senders import Outcome
from app.webhooks.addresses import is_public_address
from app.webhooks.service import message_id, secret_of

USER_AGENT = "Vestibule-Webhooks/1"


def send(item: OutboxItem, payload: dict[str, Any]) -> Outcome:
    """Sign and POST a queued delivery to its endpoint (the outbox sender for webhooks)."""
    endpoint = db.session.get(WebhookEndpoint, item.endpoint_id) if item.endpoint_id else None
    if endpoint is None:
        return Outcome(ok=False, permanent=True, error="endpoint deleted")
    if not endpoint.enabled:
        return Outcome(ok=False, permanent=True, error="endpoint disabled")
    try:
        url, secret = endpoint.url, secret_of(endpoint)
    except InvalidToken:
        return Outcome(ok=False, error="cannot unseal the endpoint's secret (SECRET_KEY changed?)")
    db.session.commit()  # end the read: no transaction stays open while the receiver answers
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]:
        refusal = _private_target(url)
        if refusal:
            return Outcome(ok=False, permanent=True, error=refusal)
    body = payload["body"]
    return post(url, body, signed_headers(secret, message_id(item), utcnow(), body))


def _private_target(url: str) -> str | None:
    """Why ``url`` must not be called (its host resolves to a non-public address), or
    None. Checked at every delivery: the name may have been pointed elsewhere since the
    endpoint was registered, and a webhook must not reach the server's own network."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return f"cannot resolve {parts.hostname}"
    # The answer never says which address: it would map the internal network for
    # whoever registers endpoints and reads their attempt log.
    if any(not is_public_address(str(info[4][0])) for info in infos):
        return f"{parts.hostname} resolves to a non-public address"
    return None


def signed_headers(secret: str, msg_id: str, moment: datetime, body: str) -> dict[str, str]:
    """The headers of one attempt, its signature made for ``moment`` (whole seconds)."""
    moment = moment.replace(microsecond=0)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` within WEBHOOK_TIMEOUT seconds in all; 2xx is delivered,
    anything else (a redirect too: never followed) is retried."""
    try:
        answer = outbox_http.post(
            url, body.encode(), headers, current_app.config["WEBHOOK_TIMEOUT"]
        )
    except ValueError as exc:
        return Outcome(ok=False, permanent=True, error=str(exc))
    except OSError as exc:
        return Outcome(ok=False, error=str(exc))
    error = None if answer.ok else f"HTTP {answer.status}"
    return Outcome(ok=answer.ok, status_code=answer.status, excerpt=answer.excerpt, error=error)
