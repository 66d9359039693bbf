"""The in-process outbox runner (``OUTBOX_IN_PROCESS``): a daemon thread of the serving
process delivering, for deployments without a separate ``vestibule outbox work``."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from app.outbox.worker import Worker

log = logging.getLogger(__name__)


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
