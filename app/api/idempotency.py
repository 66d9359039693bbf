"""Idempotent POSTs: a request retried with the same ``Idempotency-Key`` header and the
same body gets the first answer again instead of doing the work twice (spec §3.3).

The answer is remembered in the same transaction as the change it describes, and only
when that change succeeded, so a refused request may be retried with the same key.
Keys are per caller and remembered for ``IDEMPOTENCY_TTL`` seconds; an older one is
forgotten and may be reused.

A remembered invitation carries its link, whose token is otherwise stored only as a
hash (spec §2.1). So the key is stored as an HMAC and the answer is encrypted with a
key derived from the caller's Idempotency-Key: a database dump alone reveals neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from cryptography.fernet import Fernet
from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app.errors import Conflict, DomainError
from app.extensions import db
from app.models import IdempotentRequest, utcnow

T = TypeVar("T")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

#: The request header, for the OpenAPI description of a route.
KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "Any unique string (a UUID): a retry with the same key and body "
    "gets the first answer again, with Idempotent-Replayed: true; the same key with "
    "another body is refused (422). Remembered for 24 hours by default.",
}

#: The response header, for the OpenAPI description of a route.
REPLAYED_HEADER_DOC = {
    REPLAYED_HEADER: {
        "description": "Present on an answer replayed for a repeated Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


class IdempotencyKeyReused(DomainError):
    """The key was already used by this caller for a different request."""

    status = 422
    code = "idempotency_key_reused"


@dataclass
class Attempt:
    """One request carrying an Idempotency-Key."""

    actor: str
    raw_key: str
    fingerprint: str

    @property
    def lookup(self) -> str:
        """What the database stores instead of the key."""
        return _derive("lookup", self.raw_key).hex()

    def seal(self, body: dict[str, Any]) -> str:
        """``body`` encrypted for whoever holds the key."""
        return self._fernet().encrypt(json.dumps(body).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """The body sealed by ``seal``."""
        return json.loads(self._fernet().decrypt(sealed.encode()))

    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(_derive("seal", self.raw_key)))


def once(
    work: Callable[[Callable[[T], None]], T],
    render: Callable[[T], dict[str, Any]],
    status: int,
    actor: str,
) -> Response:
    """Answer the current request by running ``work`` at most once per Idempotency-Key.

    ``work`` receives a callback to call with its result just before it commits;
    ``render`` turns that result into the JSON body answered (and remembered).
    """
    attempt = _attempt(actor)
    if attempt is not None and (replayed := _replay(attempt)) is not None:
        return replayed
    rendered: dict[str, Any] = {}

    def remember(result: T) -> None:
        rendered.update(render(result))
        if attempt is not None:
            _store(attempt, status, rendered)

    try:
        work(remember)
    except Conflict:
        # A concurrent twin with the same key may have won the race: answer as it did.
        if attempt is None or (replayed := _replay(attempt)) is None:
            raise
        return replayed
    return _json(rendered, status)


def _attempt(actor: str) -> Attempt | None:
    raw_key = request.headers.get(HEADER)
    if raw_key is None:
        return None
    if not 1 <= len(raw_key) <= MAX_KEY_LENGTH:
        raise DomainError(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", field=HEADER)
    return Attempt(actor, raw_key, _fingerprint())


def _fingerprint() -> str:
    """SHA-256 of method, path and the JSON body (key order and spacing do not matter)."""
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path} {canonical}".encode()).hexdigest()


def _replay(attempt: Attempt) -> Response | None:
    """The remembered answer for this attempt's key, None when there is none (any more)."""
    stored = db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.actor == attempt.actor, IdempotentRequest.key == attempt.lookup
        )
    )
    if stored is None:
        return None
    ttl = timedelta(seconds=current_app.config["IDEMPOTENCY_TTL"])
    if stored.created_at <= utcnow() - ttl:
        # Forgotten: this request's answer replaces it (committed together).
        db.session.delete(stored)
        db.session.flush()
        return None
    if not hmac.compare_digest(stored.request_hash, attempt.fingerprint):
        raise IdempotencyKeyReused(f"this {HEADER} was already used for a different request")
    response = _json(attempt.open(stored.response["sealed"]), stored.status_code)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _store(attempt: Attempt, status: int, body: dict[str, Any]) -> None:
    db.session.add(
        IdempotentRequest(
            actor=attempt.actor,
            key=attempt.lookup,
            request_hash=attempt.fingerprint,
            status_code=status,
            response={"sealed": attempt.seal(body)},
        )
    )


def _derive(purpose: str, raw_key: str) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"idempotency:{purpose}:{raw_key}".encode(), hashlib.sha256).digest()


def _json(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
