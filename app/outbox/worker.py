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

The worker claims and hands items to threads; one item's delivery is
app/outbox/delivery.py, its outcome app/outbox/outcomes.py, the senders
app/outbox/senders.py, and the thread of ``OUTBOX_IN_PROCESS`` app/outbox/in_process.py.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from datetime import datetime

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import OutboxItem, utcnow
from app.outbox import delivery, lanes, senders
from app.outbox.queue import DEAD, PENDING
from app.outbox.senders import Outcome
from app.outbox.threads import Deliveries
from config import ConfigurationError

log = logging.getLogger(__name__)


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
        return Deliveries(self.app, self.deliver, self.sizes, senders.closers())

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
        """Try one claimed item and write down what happened (app/outbox/delivery.py)."""
        return delivery.deliver(item_id, self.name)
