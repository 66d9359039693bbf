"""(d) Invitation emails through the outbox: queue them with the invitations (bulk
create with ``notify``), then time outbox workers delivering them over SMTP to a local
aiosmtpd sink until the outbox is empty, in messages per second."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from app.clients.service import create_client
from app.extensions import db
from app.messages.mail import close_connection
from app.models import OutboxItem
from app.outbox.worker import Worker
from bench.harness import machine_headers, progress

BULK_PATH = "/api/v1/invitations/bulk"
CLIENT_ID = "bench-shop"


@dataclass
class MessagesResult:
    """How one run went."""

    messages: int
    workers: int
    queue_seconds: float
    deliver_seconds: float
    received: int
    sent: int

    @property
    def per_second(self) -> float:
        """Messages delivered per second of wall time."""
        return self.sent / self.deliver_seconds if self.deliver_seconds else 0.0


class CountingSink:
    """An SMTP server that accepts every message and counts it."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    """A TCP port nothing listens on (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink():
    """(sink, port): a counting SMTP server on 127.0.0.1, stopped afterwards."""
    sink, port = CountingSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def smtp_settings(port: int) -> dict:
    """Settings that send by plain SMTP to the sink."""
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SECURITY": "none",
    }


def run(app: Flask, sink: CountingSink, count: int, workers: int) -> MessagesResult:
    """Queue ``count`` invitation emails, then deliver them with ``workers`` threads."""
    queue_seconds = _queue(app, count)
    started = time.perf_counter()
    threads = [threading.Thread(target=_drain, args=(app,)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliver_seconds = time.perf_counter() - started
    with app.app_context():
        sent = db.session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "sent")
        )
    return MessagesResult(count, workers, queue_seconds, deliver_seconds, sink.count, sent)


def _queue(app: Flask, count: int, batch: int = 1000) -> float:
    headers = machine_headers(app)
    with app.app_context():
        create_client(
            "Bench shop",
            ["https://shop.example/cb"],
            client_id=CLIENT_ID,
            initiate_login_uri="https://shop.example/login",
        )
    rows = [
        {"email": f"bench.person{i}@example.com", "given_name": "Bench", "client_id": CLIENT_ID}
        for i in range(count)
    ]
    client = app.test_client()
    started = time.perf_counter()
    for start in range(0, count, batch):
        body = {"invitations": rows[start : start + batch]}
        response = client.post(BULK_PATH, json=body, headers=headers)
        if response.status_code != 200 or response.get_json()["failed"]:
            raise RuntimeError(f"bulk answered {response.status_code}: {response.get_data()[:300]}")
    return time.perf_counter() - started


def _drain(app: Flask) -> None:
    """Deliver until no due item is left."""
    with app.app_context():
        worker = Worker()
        done = 0
        while tried := worker.run_once():
            done += tried
            if done % 500 < tried:
                progress(f"messages: {worker.name} delivered {done:,}")
        close_connection()
        db.session.remove()
