"""The outbox worker: claim due items, deliver each, record the attempt, and either
mark it sent or schedule a retry with exponential backoff and jitter (``dead`` after
``OUTBOX_MAX_ATTEMPTS``).

Claiming takes a lease (``locked_until``) in its own short transaction; delivery
happens outside any transaction; the outcome is written afterwards. A worker that
dies mid-batch leaves its items leased; when the lease runs out another worker
delivers them. Delivery is therefore at least once: a message that was sent just
before the crash is sent again, with the same id, so receivers can deduplicate.

Senders are registered per kind (``register_sender``); each gets the item and its
unsealed payload and returns an ``Outcome`` (or raises, which counts as a failure).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from flask import Flask, current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import DeliveryAttempt, OutboxItem, utcnow
from app.observability.metrics import record_delivery
from app.outbox.queue import DEAD, PENDING, SENT, payload_of

log = logging.getLogger(__name__)

#: Longest text kept from an answer or an error.
EXCERPT = 500


@dataclass
class Outcome:
    """What one delivery attempt gave."""

    ok: bool
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    #: Retrying cannot help (e.g. an address the server refuses for good): dead now.
    permanent: bool = False


Sender = Callable[[OutboxItem, dict[str, Any]], Outcome]
#: Called in the transaction that marks an item sent (e.g. invitation.sent_at).
AfterSent = Callable[[OutboxItem], None]

_SENDERS: dict[str, Sender] = {}
_AFTER_SENT: dict[str, AfterSent] = {}


def register_sender(kind: str, sender: Sender, after_sent: AfterSent | None = None) -> None:
    """Deliver items of ``kind`` with ``sender`` (the messages and webhooks packages do)."""
    _SENDERS[kind] = sender
    if after_sent is not None:
        _AFTER_SENT[kind] = after_sent


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


def worker_name() -> str:
    """host:pid:random, recorded on the items a worker claims and the attempts it makes."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(2)}"


class Worker:
    """Delivers outbox items; ``run_once`` is one batch, ``run`` loops until stopped."""

    def __init__(self, name: str | None = None, batch: int | None = None):
        self.name = name or worker_name()
        self.batch = batch or current_app.config["OUTBOX_BATCH"]

    def run_once(self) -> int:
        """Claim and deliver one batch; returns how many items were tried."""
        claimed = self.claim()
        for item_id in claimed:
            self.deliver(item_id)
        return len(claimed)

    def run(self, stop: threading.Event, max_items: int | None = None) -> int:
        """Deliver until ``stop`` is set (or ``max_items`` were tried); returns the count."""
        done = 0
        interval = current_app.config["OUTBOX_POLL_INTERVAL"]
        while not stop.is_set():
            try:
                tried = self.run_once()
            except Exception:  # a database hiccup must not end the worker
                log.exception("outbox batch failed")
                db.session.rollback()
                tried = 0
            done += tried
            if max_items is not None and done >= max_items:
                break
            if tried == 0:
                stop.wait(interval)
        db.session.remove()
        return done

    def claim(self) -> list[int]:
        """Lease up to ``batch`` due items to this worker; returns their ids."""
        now = utcnow()
        self._bury_crashers(now)
        due = (
            select(OutboxItem.id)
            .where(
                OutboxItem.state == PENDING,
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(self.batch)
        )
        if db.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(due))
        if not ids:
            db.session.commit()
            return []
        until = now + timedelta(seconds=current_app.config["OUTBOX_LEASE"])
        # The same conditions again: on SQLite (no SKIP LOCKED) two workers may pick
        # the same ids, and only one of them gets each row here.
        db.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id.in_(ids),
                OutboxItem.state == PENDING,
                or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
            )
            .values(locked_until=until, locked_by=self.name, attempts=OutboxItem.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return list(
            db.session.scalars(
                select(OutboxItem.id)
                .where(OutboxItem.id.in_(ids), OutboxItem.locked_by == self.name)
                .where(OutboxItem.locked_until == until)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            )
        )

    def _bury_crashers(self, now) -> None:
        """Items whose every attempt ended with the worker gone (its lease ran out with
        no outcome written): once their attempts are used up, ``dead``, not retried for
        ever."""
        db.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.state == PENDING,
                OutboxItem.attempts >= OutboxItem.max_attempts,
                OutboxItem.locked_until.is_not(None),
                OutboxItem.locked_until < now,
            )
            .values(
                state=DEAD,
                dead_at=now,
                locked_until=None,
                locked_by=None,
                last_error="no outcome: the worker stopped during every attempt",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def deliver(self, item_id: int) -> Outcome:
        """Try one claimed item and write down what happened.

        The lease is renewed first, so an item near the end of a long batch is not
        taken by another worker meanwhile; an item whose lease was lost is skipped.
        """
        until = utcnow() + timedelta(seconds=current_app.config["OUTBOX_LEASE"])
        renewed = db.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == item_id,
                OutboxItem.state == PENDING,
                OutboxItem.locked_by == self.name,
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
        outcome = self._attempt(item)
        latency = int((time.monotonic() - clock) * 1000)
        self._record(item_id, outcome, started, latency)
        return outcome

    def _attempt(self, item: OutboxItem) -> Outcome:
        sender = _SENDERS.get(item.kind)
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

    def _record(self, item_id: int, outcome: Outcome, started, latency: int) -> None:
        try:
            self._write_outcome(item_id, outcome, started, latency)
        except SQLAlchemyError:
            # The database refused what we tried to write: give up on the item rather
            # than deliver it again and again.
            db.session.rollback()
            log.exception("recording the outcome of outbox item %s failed", item_id)
            db.session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.locked_by == self.name)
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

    def _write_outcome(self, item_id: int, outcome: Outcome, started, latency: int) -> None:
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
                worker=self.name,
            )
        )
        if item.locked_by != self.name:
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
        if outcome.ok and item.kind in _AFTER_SENT:
            _AFTER_SENT[item.kind](item)
        record_delivery(item.kind, values.get("state", "retry"))
        db.session.commit()


def init_in_process(app: Flask) -> None:
    """With ``OUTBOX_IN_PROCESS``, deliver from a daemon thread of the serving process,
    started by its first request (so CLI commands never start one)."""
    if not app.config["OUTBOX_IN_PROCESS"]:
        return
    started = threading.Event()

    @app.before_request
    def _start_worker_thread() -> None:
        if started.is_set():
            return
        started.set()
        threading.Thread(
            target=_loop, args=(app, threading.Event()), name="outbox-worker", daemon=True
        ).start()


def _loop(app: Flask, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with app.app_context():
                Worker().run(stop)
        except Exception:  # keep delivering: a dead thread would stop every message
            log.exception("the in-process outbox worker failed; restarting it")
            stop.wait(app.config["OUTBOX_POLL_INTERVAL"])
