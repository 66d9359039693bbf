"""Fixtures for the outbox mechanics: a recording sender standing in for a kind's
real one (the real SMTP, SMS and webhook senders are tested against real servers in
tests/messages and tests/webhooks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from app.extensions import db
from app.outbox import queue, senders
from app.outbox.senders import Outcome
from tests.api.conftest import admin_headers, invite_client, machine_headers, person_headers
from tests.messages.conftest import smtp, smtp_port, smtp_server, smtp_settings
from tests.webhooks.conftest import receiver, register_endpoint, run_worker, webhook_headers

# Fixtures used here too: API tokens, and the real SMTP server and webhook receiver.
__all__ = [
    "admin_headers",
    "invite_client",
    "machine_headers",
    "person_headers",
    "receiver",
    "register_endpoint",
    "run_worker",
    "smtp",
    "smtp_port",
    "smtp_server",
    "smtp_settings",
    "webhook_headers",
]

KIND = "sms"


@dataclass
class Recorder:
    """Answers each delivery with the next scripted outcome (ok once the script ends)."""

    script: list[Outcome | Exception] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, item, payload) -> Outcome:
        with self.lock:
            step = self.script.pop(0) if self.script else Outcome(ok=True, status_code=200)
            if isinstance(step, Exception):
                raise step
            if step.ok:
                self.delivered.append(item.public_id)
            return step


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    """Replaces the sender of kind ``sms`` for one test."""
    rec = Recorder()
    monkeypatch.setitem(senders._SENDERS, KIND, rec)
    monkeypatch.delitem(senders._AFTER_SENT, KIND, raising=False)
    return rec


@pytest.fixture
def put(app) -> Callable[..., str]:
    """Enqueue and commit one item; returns its public id."""

    def make(topic: str = "test", recipient: str = "+4915112345678", **payload) -> str:
        with app.app_context():
            item = queue.enqueue(KIND, topic, recipient, {"text": "hello", **payload})
            db.session.commit()
            return item.public_id

    return make
