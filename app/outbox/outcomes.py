"""Writing down one delivery attempt and what it decides: the item sent, tried again
after an exponential backoff with jitter, or ``dead`` (a permanent failure, or
OUTBOX_MAX_ATTEMPTS used). Only the worker holding the item's lease decides its state;
an attempt that outlived its lease is only logged. A failure also counts towards the
endpoint's circuit breaker (app/outbox/breaker.py)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app, g
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import DeliveryAttempt, OutboxItem, utcnow
from app.observability.metrics import record_delivery
from app.outbox import breaker
from app.outbox.queue import DEAD, SENT
from app.outbox.senders import Outcome, after_sent_hook

log = logging.getLogger(__name__)

#: Longest text kept from an answer or an error.
EXCERPT = 500


def storable(text: str | None) -> str | None:
    """Text any database column keeps: no NUL (PostgreSQL refuses it), no lone
    surrogates, at most EXCERPT characters (an answer is the receiver's to choose)."""
    if not text:
        return None
    clean = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return clean[:EXCERPT] or None


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: exponential, capped, jittered
    (between half and all of the step, so retries of many items spread out)."""
    base = current_app.config["OUTBOX_BACKOFF_BASE"]
    cap = current_app.config["OUTBOX_BACKOFF_MAX"]
    step = min(cap, base * 2 ** max(0, attempts - 1))
    return step * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


def record(item_id: int, outcome: Outcome, started, latency: int, worker: str) -> None:
    """Log the attempt and, if ``worker`` still holds the item, mark it sent, dead or due
    again after a backoff; a write the database refuses ends the item."""
    try:
        _write_outcome(item_id, outcome, started, latency, worker)
    except SQLAlchemyError:
        # The database refused what we tried to write: give up on the item rather
        # than deliver it again and again.
        db.session.rollback()
        log.exception("recording the outcome of outbox item %s failed", item_id)
        db.session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.locked_by == worker)
            .values(
                state=SENT if outcome.ok else DEAD,
                sent_at=utcnow() if outcome.ok else None,
                dead_at=None if outcome.ok else utcnow(),
                locked_until=None,
                locked_by=None,
                last_error=None if outcome.ok else "the outcome could not be recorded",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def _write_outcome(item_id: int, outcome: Outcome, started, latency: int, worker: str) -> None:
    item = db.session.get(OutboxItem, item_id)
    if item is None:  # deleted while it was being delivered
        db.session.commit()
        return
    now = utcnow()
    error = storable(outcome.error)
    db.session.add(
        DeliveryAttempt(
            outbox_id=item.id,
            number=item.attempts,
            started_at=started,
            latency_ms=latency,
            ok=outcome.ok,
            status_code=outcome.status_code,
            response_excerpt=storable(outcome.excerpt),
            error=error,
            worker=worker,
            request_id=item.request_id,
        )
    )
    if item.endpoint_id is not None:
        breaker.record(item.endpoint_id, outcome.ok, now)
    if item.locked_by != worker:
        # Another worker holds it now (this attempt outlived its lease): its own
        # outcome will decide the state; this attempt is only logged.
        db.session.commit()
        return
    values: dict[str, Any] = {"locked_until": None, "locked_by": None}
    if outcome.ok:
        values.update(state=SENT, sent_at=now, last_error=None)
    elif outcome.permanent or item.attempts >= item.max_attempts:
        values.update(state=DEAD, dead_at=now, last_error=error)
    else:
        delay = timedelta(seconds=backoff(item.attempts))
        values.update(next_attempt_at=now + delay, last_error=error)
    for key, value in values.items():
        setattr(item, key, value)
    hook = after_sent_hook(item.kind)
    if outcome.ok and hook is not None:
        with _request_id(item.request_id):
            hook(item)
    record_delivery(item.kind, values.get("state", "retry"))
    db.session.commit()


@contextmanager
def _request_id(request_id: str | None) -> Iterator[None]:
    """The item's request id as ``g.request_id`` meanwhile: what a hook queues (the
    webhooks of ``invitation.sent``) carries the id of the request that started it."""
    before = g.get("request_id")
    g.request_id = request_id
    try:
        yield
    finally:
        g.request_id = before
