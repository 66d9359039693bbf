"""Delivering one claimed item: its lease renewed first, then handed to its kind's
sender outside any transaction (no transaction stays open while we talk to the
network), and what happened written down by app/outbox/outcomes.py."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import update

from app.extensions import db
from app.models import OutboxItem, utcnow
from app.outbox.outcomes import EXCERPT, record
from app.outbox.queue import PENDING, payload_of
from app.outbox.senders import Outcome, sender_for

log = logging.getLogger(__name__)


def deliver(item_id: int, worker: str) -> Outcome:
    """Try one item claimed by ``worker`` and write down what happened.

    The lease is renewed first, so an item near the end of a long batch is not
    taken by another worker meanwhile; an item whose lease was lost is skipped.
    """
    until = utcnow() + timedelta(seconds=current_app.config["OUTBOX_LEASE"])
    renewed = db.session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.state == PENDING,
            OutboxItem.locked_by == worker,
        )
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    ).rowcount
    item = db.session.get(OutboxItem, item_id) if renewed == 1 else None
    if item is None:  # deleted since (its endpoint was removed), or lost to another
        db.session.commit()
        return Outcome(ok=False, error="no longer held by this worker", permanent=True)
    db.session.expunge(item)  # a detached copy: senders read it, nothing more
    db.session.commit()  # and no transaction stays open while we talk to the network
    started = utcnow()
    clock = time.monotonic()
    outcome = _attempt(item)
    latency = int((time.monotonic() - clock) * 1000)
    record(item_id, outcome, started, latency, worker)
    return outcome


def _attempt(item: OutboxItem) -> Outcome:
    sender = sender_for(item.kind)
    if sender is None:
        return Outcome(ok=False, error=f"no sender for {item.kind!r}")
    try:
        payload = payload_of(item)
    except InvalidToken:
        error = "cannot unseal the payload (SECRET_KEY changed without a fallback?)"
        return Outcome(ok=False, permanent=True, error=error)
    try:
        return sender(item, payload)
    except Exception as exc:  # the network and libraries raise many things
        log.warning("delivering %s failed: %s", item.public_id, exc)
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:EXCERPT])
