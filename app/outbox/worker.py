"""The outbox worker: claim due items, deliver them, record each attempt, and either
mark an item sent or schedule a retry with exponential backoff and jitter (``dead``
after ``OUTBOX_MAX_ATTEMPTS``).

Items travel in lanes (app/outbox/lanes.py): email, SMS, and webhooks per endpoint.
Each kind is delivered on threads of its own (app/outbox/threads.py), so a slow
webhook receiver holds webhook threads only, never an email; one endpoint holds at
most OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY of them, and a failing one is parked by its
circuit breaker (app/outbox/breaker.py).

Claiming takes a lease (``locked_until``) in its own short transaction; delivery
happens outside any transaction, and the lease is renewed just before; the outcome is
written afterwards, by the lease holder only. A worker that dies leaves its items
leased; when the lease runs out another worker delivers them. Delivery is therefore
at least once: a message sent just before the crash is sent again, with the same id,
so receivers can deduplicate.

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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from flask import Flask, current_app, g
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import DeliveryAttempt, OutboxItem, utcnow
from app.observability.metrics import record_delivery
from app.outbox import breaker, lanes
from app.outbox.queue import DEAD, PENDING, SENT, payload_of
from app.outbox.threads import Closer, Deliveries
from config import ConfigurationError

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
_CLOSERS: dict[str, Closer] = {}


def register_sender(
    kind: str,
    sender: Sender,
    after_sent: AfterSent | None = None,
    closer: Closer | None = None,
) -> None:
    """Deliver items of ``kind`` with ``sender`` (the messages and webhooks packages do);
    ``closer`` runs on each of the kind's threads as it ends."""
    _SENDERS[kind] = sender
    if after_sent is not None:
        _AFTER_SENT[kind] = after_sent
    if closer is not None:
        _CLOSERS[kind] = closer


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


#: The settings giving each kind's deliveries at once per worker.
CONCURRENCY = {
    "email": "OUTBOX_EMAIL_CONCURRENCY",
    "sms": "OUTBOX_SMS_CONCURRENCY",
    lanes.WEBHOOK: "OUTBOX_WEBHOOK_CONCURRENCY",
}
_AT_LEAST_ONE = (
    *CONCURRENCY.values(),
    "OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY",
    "OUTBOX_BREAKER_THRESHOLD",
    "OUTBOX_BATCH",
)


def lane_sizes(config) -> dict[str, int]:
    """Deliveries at once per kind; ConfigurationError for a setting below 1."""
    for name in _AT_LEAST_ONE:
        if not isinstance(config[name], int) or config[name] < 1:
            raise ConfigurationError(f"{name} must be a whole number of at least 1")
    if config["OUTBOX_BREAKER_PARK"] < 0:
        raise ConfigurationError("OUTBOX_BREAKER_PARK must be 0 seconds or more")
    return {kind: config[name] for kind, name in CONCURRENCY.items()}


class Worker:
    """Delivers outbox items; ``run_once`` is one batch, ``run`` loops until stopped.

    A batch is up to ``batch`` items of each message lane and as many webhooks as the
    webhook threads and each endpoint may take; the kinds are delivered concurrently.
    """

    def __init__(self, name: str | None = None, batch: int | None = None):
        self.name = name or worker_name()
        self.app = current_app._get_current_object()
        self.sizes = lane_sizes(current_app.config)
        self.batch = batch or current_app.config["OUTBOX_BATCH"]
        self._buried_at = float("-inf")

    def run_once(self) -> int:
        """Claim and deliver one batch; returns how many items were tried."""
        claimed = self._claim(self._room({}))
        if claimed:
            per_kind = Counter(kind for kind, _ in claimed)
            deliveries = self._deliveries()
            for kind, item_id in claimed:
                deliveries.submit(kind, item_id, threads=per_kind[kind])
            deliveries.close()
        return len(claimed)

    def run(self, stop: threading.Event, max_items: int | None = None) -> int:
        """Deliver until ``stop`` is set (or ``max_items`` were tried); returns the count.

        Whenever a kind has room (a delivery finished), more of it is claimed; when
        nothing was due, the next look is after OUTBOX_POLL_INTERVAL seconds or when a
        delivery finishes. Once stopped, items claimed but not started are handed
        back; deliveries in progress are finished.
        """
        done = 0
        interval = current_app.config["OUTBOX_POLL_INTERVAL"]
        deliveries = self._deliveries()
        try:
            while not stop.is_set():
                deliveries.finished.clear()
                claimed = self._claim_safely(self._room(deliveries.holding()))
                for kind, item_id in claimed:
                    deliveries.submit(kind, item_id)
                done += len(claimed)
                if max_items is not None and done >= max_items:
                    break
                if not claimed:
                    deliveries.finished.wait(interval)
        finally:
            if stop.is_set():
                self._release(deliveries.take_unstarted())
            deliveries.close()
            db.session.remove()
        return done

    def claim(self) -> list[int]:
        """Lease one batch of due items to this worker; returns their ids."""
        return [item_id for _, item_id in self._claim(self._room({}))]

    def _room(self, held: dict[str, int]) -> dict[str, int]:
        """How many items of each kind to claim now, given those still held.

        A message lane claims a batch once a thread is idle (its items wait their turn
        in this worker, leased); webhooks are claimed only for an idle thread, so none
        waits here while its endpoint's cap or breaker would say otherwise.
        """
        room = {}
        for kind in lanes.MESSAGE_KINDS:
            holding = held.get(kind, 0)
            room[kind] = self.batch - holding if holding < self.sizes[kind] else 0
        webhooks = min(self.batch, self.sizes[lanes.WEBHOOK])
        room[lanes.WEBHOOK] = max(0, webhooks - held.get(lanes.WEBHOOK, 0))
        return room

    def _claim(self, room: dict[str, int]) -> list[tuple[str, int]]:
        """Lease items for every kind with room: (kind, id) pairs, in claim order."""
        if not any(room.values()):
            return []
        now = utcnow()
        self._bury_crashers_now_and_then(now)
        claimed = []
        for kind in lanes.MESSAGE_KINDS:
            if room[kind] > 0:
                ids = lanes.claim(lanes.message_lane(kind), self.name, room[kind], now)
                claimed += [(kind, item_id) for item_id in ids]
        if room[lanes.WEBHOOK] > 0:
            claimed += [(lanes.WEBHOOK, item_id) for item_id in self._claim_webhooks(room, now)]
        return claimed

    def _claim_webhooks(self, room: dict[str, int], now: datetime) -> list[int]:
        """Endpoint by endpoint, the longest waiting first, while webhook threads are free."""
        ids: list[int] = []
        for endpoint_id in lanes.due_endpoints(now):
            left = room[lanes.WEBHOOK] - len(ids)
            if left <= 0:
                break
            ids += lanes.claim_endpoint(endpoint_id, self.name, left, now)
        db.session.commit()  # end the read of the endpoints
        return ids

    def _claim_safely(self, room: dict[str, int]) -> list[tuple[str, int]]:
        try:
            return self._claim(room)
        except Exception:  # a database hiccup must not end the worker
            log.exception("claiming outbox items failed")
            db.session.rollback()
            return []

    def _deliveries(self) -> Deliveries:
        return Deliveries(self.app, self.deliver, self.sizes, _CLOSERS)

    def _release(self, item_ids: list[int]) -> None:
        """Hand back items claimed but never started (the worker is stopping)."""
        if not item_ids:
            return
        try:
            lanes.release(item_ids, self.name)
        except SQLAlchemyError:  # their lease ends anyway, and another worker takes them
            db.session.rollback()
            log.exception("handing back %s outbox items failed", len(item_ids))

    def _bury_crashers_now_and_then(self, now: datetime) -> None:
        """Bury crashers at most once per poll interval: a busy worker claims after
        every delivery, and this statement writes."""
        clock = time.monotonic()
        if clock - self._buried_at >= current_app.config["OUTBOX_POLL_INTERVAL"]:
            self._buried_at = clock
            self._bury_crashers(now)

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
                request_id=item.request_id,
            )
        )
        if item.endpoint_id is not None:
            breaker.record(item.endpoint_id, outcome.ok, now)
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
            with _request_id(item.request_id):
                _AFTER_SENT[item.kind](item)
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
