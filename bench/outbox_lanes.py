"""(f) Invitation emails while webhooks wait: 100 webhook deliveries to a receiver that
sleeps 30 s before answering, then invitation emails queued one every half second;
one worker (``Worker.run``, as ``vestibule worker`` runs it) delivers, and each
email's delay from queued to sent is measured (p50, p95, max). Emails not sent within
the window count as not sent. Bounded: at most WINDOW seconds per database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask
from sqlalchemy import func, select

from app import events
from app.extensions import db
from app.invitations import creation
from app.invitations.validation import InvitationInput
from app.models import DeliveryAttempt, OutboxItem, WebhookEndpoint
from app.outbox.worker import Worker
from app.webhooks import service as webhooks
from bench.harness import Latency, bench_app, database_version, print_table, progress
from bench.messages import smtp_settings, smtp_sink

WEBHOOKS = 100
EMAILS = 20
#: Seconds the receiver sleeps before answering, and between two emails.
SLEEP = 30.0
EMAIL_EVERY = 0.5
#: Seconds from the first email until the run gives up on the rest.
WINDOW = 30.0


@dataclass
class LanesResult:
    """How one run went."""

    #: Seconds from queued to sent, of each email sent within the window.
    delays: list[float]
    #: Webhook attempts finished meanwhile, and whether the endpoint got parked.
    webhook_attempts: int
    parked: bool


class SleepyHandler(BaseHTTPRequestHandler):
    """Holds every POST for SLEEP seconds (or until the run ends), then answers 200."""

    done: threading.Event

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.done.wait(SLEEP)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base's name)
        pass


@dataclass
class SleepyReceiver:
    """A slow receiver's URL, and the way to end its held requests."""

    url: str
    done: threading.Event

    def release(self) -> None:
        """Answer every held request now (the run is over)."""
        self.done.set()


@contextmanager
def sleepy_receiver() -> Iterator[SleepyReceiver]:
    """A slow receiver on 127.0.0.1, stopped after the block."""
    done = threading.Event()
    handler = type("Handler", (SleepyHandler,), {"done": done})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SleepyReceiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", done)
    finally:
        done.set()
        server.shutdown()
        server.server_close()


def report(backends: list[str]) -> None:
    """Run on each backend and print the table."""
    rows, settings = [], ""
    for backend in backends:
        with (
            smtp_sink() as (_, port),
            sleepy_receiver() as receiver,
            bench_app(backend, **smtp_settings(port), WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True) as app,
        ):
            result = run(app, receiver)
            rows.append(_row(database_version(app), result))
            settings = _settings(app)
    print_table(
        f"(f) Invitation emails while {WEBHOOKS} webhook deliveries wait on a receiver that "
        f"sleeps {SLEEP:g} s: {EMAILS} emails queued {EMAIL_EVERY:g} s apart after them, one "
        f"worker (Worker.run), default settings ({settings}). Delay: queued to sent. "
        "Target: p95 under 5 s.",
        ("database", "emails sent", "p50 s", "p95 s", "max s", "webhook attempts done", "parked"),
        rows,
    )


def _settings(app: Flask) -> str:
    names = (
        "WEBHOOK_TIMEOUT",
        "OUTBOX_POLL_INTERVAL",
        "OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY",
        "OUTBOX_BREAKER_THRESHOLD",
    )
    return ", ".join(f"{name} {app.config.get(name, '-')}" for name in names)


def run(app: Flask, receiver: SleepyReceiver) -> LanesResult:
    """Queue the webhooks, start one worker, queue the emails, wait for them."""
    with app.app_context():
        webhooks.create(receiver.url, ["user.login"], "bench")
        for n in range(WEBHOOKS):
            events.record("user.login", f"account:bench-{n}")
        db.session.commit()
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(app, stop))
    worker.start()
    try:
        _queue_emails(app)
        _wait_for_emails(app, time.monotonic() + WINDOW)
        return _result(app)
    finally:
        stop.set()
        receiver.release()  # the worker finishes its deliveries in progress, then stops
        worker.join()


def _work(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        Worker(name="bench-lanes").run(stop)


def _queue_emails(app: Flask) -> None:
    for n in range(EMAILS):
        with app.app_context():
            person = InvitationInput(email=f"lanes{n}@example.com")
            creation.create(person, "bench")
        time.sleep(EMAIL_EVERY)
    progress(f"outbox lanes: {EMAILS} emails queued")


def _wait_for_emails(app: Flask, deadline: float) -> None:
    while _emails_sent(app) < EMAILS and time.monotonic() < deadline:
        time.sleep(0.1)


def _emails_sent(app: Flask) -> int:
    with app.app_context():
        sent = select(func.count()).where(OutboxItem.kind == "email", OutboxItem.state == "sent")
        return db.session.scalar(sent.select_from(OutboxItem))


def _result(app: Flask) -> LanesResult:
    with app.app_context():
        emails = db.session.execute(
            select(OutboxItem.created_at, OutboxItem.sent_at).where(
                OutboxItem.kind == "email", OutboxItem.sent_at.is_not(None)
            )
        ).all()
        attempts = db.session.scalar(
            select(func.count())
            .select_from(DeliveryAttempt)
            .join(OutboxItem)
            .where(OutboxItem.kind == "webhook")
        )
        parked = select(func.count()).where(WebhookEndpoint.parked_until.is_not(None))
        return LanesResult(
            [(sent - queued).total_seconds() for queued, sent in emails],
            attempts,
            bool(db.session.scalar(parked.select_from(WebhookEndpoint))),
        )


def _row(version: str, result: LanesResult) -> tuple:
    parked = "yes" if result.parked else "no"
    if not result.delays:
        sent = f"0 of {EMAILS} in {WINDOW:g} s"
        return (version, sent, "-", "-", "-", result.webhook_attempts, parked)
    latency = Latency(result.delays)
    return (
        version,
        f"{len(result.delays)} of {EMAILS}",
        f"{latency.percentile(50) / 1000:.2f}",
        f"{latency.percentile(95) / 1000:.2f}",
        f"{max(result.delays):.2f}",
        result.webhook_attempts,
        parked,
    )
