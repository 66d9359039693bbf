"""Delivering one webhook (spec §6): POST the queued body, signed per Standard
Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

The outbox worker calls ``send`` for every attempt and records what it returns.
A 2xx answer is a delivery; any other answer, a redirect included, or a network
error is retried; a disabled or deleted endpoint ends the delivery (``dead``).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox.worker import EXCERPT, Outcome
from app.webhooks.service import message_id, secret_of

USER_AGENT = "Vestibule-Webhooks/1"
#: Bytes of an answer read for its excerpt (UTF-8 takes up to 4 per character).
_READ = 4 * EXCERPT


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
    body = payload["body"]
    return post(url, body, signed_headers(secret, message_id(item), utcnow(), body))


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: the body is not posted elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url``, ignoring proxy settings from the environment."""
    if not url.startswith(("http://", "https://")):  # urllib also opens file: and ftp:
        return Outcome(ok=False, permanent=True, error="not an http(s) URL")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    request = urllib.request.Request(  # noqa: S310 (http and https only, checked above)
        url, data=body.encode(), headers=headers, method="POST"
    )
    try:
        with opener.open(request, timeout=current_app.config["WEBHOOK_TIMEOUT"]) as answer:
            return Outcome(ok=True, status_code=answer.status, excerpt=_excerpt(answer))
    except urllib.error.HTTPError as exc:
        with exc:
            return Outcome(
                ok=False, status_code=exc.code, excerpt=_excerpt(exc), error=f"HTTP {exc.code}"
            )
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, BaseException):
            reason = f"{type(reason).__name__}: {reason}"
        return Outcome(ok=False, error=str(reason)[:EXCERPT])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:EXCERPT])


def _excerpt(answer) -> str | None:
    """The start of an answer's body, as text, for the attempt log."""
    try:
        raw = answer.read(_READ)
    except (OSError, http.client.HTTPException):
        return None
    return raw.decode("utf-8", errors="replace")[:EXCERPT] or None
