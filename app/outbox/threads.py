"""The threads a worker delivers on: a few per kind, so the kinds never wait for each
other, each delivery in an app context (and database session) of its own.

Delivery is network I/O, so threads are enough. ``Deliveries`` keeps count of the
items each kind holds (claimed and not finished), which decides how much the worker
claims next, and wakes the worker when one finishes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)

#: A function called by a kind's thread as it ends (e.g. to close its SMTP connection).
Closer = Callable[[], None]


class LaneThreads:
    """``size`` threads delivering one kind's items in the order they were handed in."""

    def __init__(self, kind: str, size: int, deliver: Callable[[int], None], closer: Closer | None):
        self.kind = kind
        self._deliver = deliver
        self._closer = closer
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        # Daemon threads: a delivery stuck in the network never keeps the process alive.
        self._threads = [
            threading.Thread(target=self._serve, name=f"outbox-{kind}-{n}", daemon=True)
            for n in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, item_id: int) -> None:
        """Deliver ``item_id`` when a thread is free."""
        self._queue.put(item_id)

    def stop(self) -> None:
        """End the threads once the items handed in are delivered."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def take_unstarted(self) -> list[int]:
        """The items handed in that no thread has started: they will not be delivered."""
        items = []
        while True:
            try:
                item_id = self._queue.get_nowait()
            except queue.Empty:
                return items
            if item_id is not None:
                items.append(item_id)

    def _serve(self) -> None:
        try:
            while (item_id := self._queue.get()) is not None:
                self._deliver(item_id)
        finally:
            if self._closer is not None:
                self._close()

    def _close(self) -> None:
        try:
            self._closer()
        except Exception:  # closing politely is a courtesy; the thread ends anyway
            log.exception("closing the %s lane's connection failed", self.kind)


class Deliveries:
    """The worker's lanes of threads, started on first use, and what each kind holds."""

    def __init__(
        self,
        app: Flask,
        deliver: Callable[[int], object],
        sizes: dict[str, int],
        closers: dict[str, Closer],
    ):
        self._app = app
        self._deliver = deliver
        self._sizes = sizes
        self._closers = closers
        self._lanes: dict[str, LaneThreads] = {}
        self._lock = threading.Lock()
        self.held = dict.fromkeys(sizes, 0)
        #: Set whenever a delivery finishes: there is room to claim more.
        self.finished = threading.Event()

    def submit(self, kind: str, item_id: int, threads: int | None = None) -> None:
        """Deliver a claimed item on its kind's threads (``threads`` of them at most,
        started with the first item of that kind)."""
        with self._lock:
            self.held[kind] += 1
        lane = self._lanes.get(kind)
        if lane is None:
            size = min(self._sizes[kind], threads or self._sizes[kind])
            lane = LaneThreads(kind, size, self._runner(kind), self._closers.get(kind))
            self._lanes[kind] = lane
        lane.submit(item_id)

    def holding(self) -> dict[str, int]:
        """Items claimed and not finished, per kind."""
        with self._lock:
            return dict(self.held)

    def take_unstarted(self) -> list[int]:
        """The items claimed that no thread has started, taken off every lane."""
        return [item_id for lane in self._lanes.values() for item_id in lane.take_unstarted()]

    def close(self) -> None:
        """Deliver what was handed in, then end every thread."""
        for lane in self._lanes.values():
            lane.stop()
        self._lanes.clear()

    def _runner(self, kind: str) -> Callable[[int], None]:
        def run(item_id: int) -> None:
            try:
                with self._app.app_context():
                    self._deliver(item_id)
            except Exception:  # the database failed us: the lease brings the item back
                log.exception("delivering outbox item %s failed", item_id)
            finally:
                with self._lock:
                    self.held[kind] -= 1
                self.finished.set()

        return run
