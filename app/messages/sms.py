"""SMS delivery: a webhook-style HTTP provider (``SMS_BACKEND=http``), the console
(development), or ``off`` (an SMS fails at once, permanently).

The HTTP provider POSTs ``{"to", "from", "text", "id"}`` as JSON to SMS_HTTP_URL with
the SMS_HTTP_AUTH_HEADER header. ``id`` is the outbox item's public id, the same on
every retry, so a gateway can drop a duplicate. 2xx is delivered; 4xx (but 408 and
429) is permanent; anything else, or no answer, is retried.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flask import current_app

from app.models import OutboxItem
from app.outbox import http as outbox_http
from app.outbox.senders import Outcome

#: 4xx answers that say "later", not "never".
RETRYABLE_4XX = (408, 429)


def send_sms(item: OutboxItem, payload: dict[str, Any]) -> Outcome:
    """Deliver an SMS item with the configured backend."""
    config = current_app.config
    if config["SMS_BACKEND"] == "off":
        return Outcome(ok=False, error="SMS is off (SMS_BACKEND=off)", permanent=True)
    if config["SMS_BACKEND"] == "console":
        print(
            f"--- sms (SMS_BACKEND=console) {item.public_id}\nTo: {payload['to']}\n\n"
            f"{payload['text']}\n---",
            file=sys.stdout,
            flush=True,
        )
        return Outcome(ok=True, excerpt="printed (SMS_BACKEND=console)")
    body = {"to": payload["to"], "from": config["SMS_FROM"], "text": payload["text"]}
    return _post(config, {**body, "id": item.public_id})


def auth_header(value: str | None) -> tuple[str, str] | None:
    """``"Authorization: Bearer xyz"`` as (name, value); ValueError when malformed."""
    if not value:
        return None
    name, sep, rest = value.partition(":")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest or any(c in value for c in "\r\n\x00"):
        raise ValueError("expected 'Name: value'")
    if not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
        raise ValueError(f"{name!r} is not a header name")
    return name, rest


def _post(config, body: dict[str, str]) -> Outcome:
    headers = {"Content-Type": "application/json", "User-Agent": "Vestibule"}
    header = auth_header(config["SMS_HTTP_AUTH_HEADER"])
    if header:
        headers[header[0]] = header[1]
    try:
        answer = outbox_http.post(
            config["SMS_HTTP_URL"], json.dumps(body).encode(), headers, config["SMS_TIMEOUT"]
        )
    except (OSError, ValueError) as exc:  # refused, timed out, TLS failed ...
        return Outcome(ok=False, error=str(exc))
    if answer.ok:
        return Outcome(ok=True, status_code=answer.status, excerpt=answer.excerpt)
    permanent = 400 <= answer.status < 500 and answer.status not in RETRYABLE_4XX
    return Outcome(
        ok=False,
        status_code=answer.status,
        excerpt=answer.excerpt,
        error=f"HTTP {answer.status}",
        permanent=permanent,
    )
