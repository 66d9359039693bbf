"""Delivery lanes against real receivers (a slow HTTP receiver, an aiosmtpd server):
one slow webhook receiver cannot delay email or another endpoint, an endpoint gets at
most its cap of deliveries at once, and a failing endpoint is parked by its circuit
breaker without using up its deliveries' attempts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxItem, WebhookEndpoint, utcnow
from app.outbox import senders
from app.outbox.senders import Outcome
from app.outbox.worker import Worker
from tests.helpers import invite, update_rows

#: Seconds any wait below may take before the test gives up (a bound, not a measure).
BOUND = 20
CREATED = ["invitation.created"]


@pytest.fixture(autouse=True)
def _quick_polls(app, monkeypatch):
    """Poll often and let held deliveries wait for the test, not for a timeout."""
    monkeypatch.setitem(app.config, "OUTBOX_POLL_INTERVAL", 0.05)
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 60)


@contextmanager
def running_worker(app, receiver) -> Iterator[None]:
    """One worker delivering in a thread until the block ends; held requests are then
    released so its deliveries in progress can finish."""
    stop, errors = threading.Event(), []

    def work() -> None:
        try:
            with app.app_context():
                Worker(name="lanes").run(stop)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        receiver.release_all()
        thread.join(BOUND)
    assert not thread.is_alive(), "the worker did not stop"
    assert not errors


def wait_for(condition: Callable[[], object], seconds: float = BOUND) -> bool:
    """Whether ``condition()`` came true within ``seconds`` (checked every 20 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def invite_quietly(app, count: int) -> None:
    """``count`` invitations that send no message: one invitation.created each."""
    for n in range(count):
        invite(app, email=f"quiet{n}@example.com", notify=False)


def states(app) -> dict[str, tuple[str, int]]:
    """Every outbox item's (state, attempts), by public id."""
    with app.app_context():
        items = db.session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        return {item.public_id: (item.state, item.attempts) for item in items}


def test_an_email_is_sent_while_slow_webhooks_are_in_flight(app, smtp, receiver, register_endpoint):
    """24 webhook deliveries held open by a slow receiver, then an invitation email
    queued after them: the email is sent while the receiver holds them, none answered."""
    receiver.hold()
    register_endpoint(receiver.url, CREATED)
    invite_quietly(app, 24)
    invite(app, email="ada@example.com")
    with running_worker(app, receiver):
        assert receiver.wait_until(lambda: receiver.held >= 1), "no webhook was delivered"
        assert wait_for(lambda: smtp.messages), "the email waited behind the webhooks"
        assert receiver.released == []  # every delivery that reached it is still held
    [message] = smtp.messages
    assert message.rcpt_tos == ["ada@example.com"]


def test_a_slow_endpoint_does_not_hold_up_another(app, receiver, register_endpoint):
    """One endpoint holds its 20 deliveries open; another endpoint's delivery, queued
    after them, arrives meanwhile."""
    receiver.hold(only="/slow")
    register_endpoint(receiver.url_for("/slow"), CREATED)
    invite_quietly(app, 20)
    register_endpoint(receiver.url_for("/fast"), CREATED)
    invite(app, email="grace@example.com", notify=False)
    with running_worker(app, receiver):
        arrived = receiver.wait_until(lambda: any(r.path == "/fast" for r in receiver.received))
        assert arrived, "the other endpoint waited behind the slow one"
        assert receiver.released == []


def test_an_endpoint_gets_at_most_its_cap_at_once(app, monkeypatch, receiver, register_endpoint):
    """With a cap of 3 (and 8 webhook threads), the slow receiver holds exactly 3 of 20
    deliveries at a time, never more, until every one is answered."""
    monkeypatch.setitem(app.config, "OUTBOX_WEBHOOK_ENDPOINT_CONCURRENCY", 3)
    monkeypatch.setitem(app.config, "OUTBOX_WEBHOOK_CONCURRENCY", 8)
    receiver.hold()
    register_endpoint(receiver.url, CREATED)
    invite_quietly(app, 20)
    with running_worker(app, receiver):
        for answered in range(20):
            expected = min(3, 20 - answered)
            reached = receiver.wait_until(lambda n=expected: receiver.held == n)
            assert reached, f"{receiver.held} held after {answered} answers, not {expected}"
            receiver.release_one()
            assert receiver.wait_until(lambda n=answered: len(receiver.released) > n)
    assert receiver.peak == 3
    assert len(receiver.received) == 20
    assert {state for state, _ in states(app).values()} == {"sent"}


def test_a_failing_endpoint_is_parked_then_probed_then_resumed(
    app, monkeypatch, receiver, register_endpoint, run_worker
):
    """After 3 failures in a row the endpoint is parked: its other deliveries wait
    without using attempts. Once the park is over one delivery probes it; a failed
    probe parks it again, a good one resumes the rest."""
    for name, value in {
        "OUTBOX_BREAKER_THRESHOLD": 3,
        "OUTBOX_BREAKER_PARK": 3600,
        "OUTBOX_BACKOFF_BASE": 0,  # a failed delivery is due again at once
    }.items():
        monkeypatch.setitem(app.config, name, value)
    receiver.default = 503
    register_endpoint(receiver.url, CREATED)
    invite_quietly(app, 6)

    run_worker()  # until nothing is claimable
    assert len(receiver.received) == 3
    attempts = sorted(attempts for _, attempts in states(app).values())
    assert attempts == [0, 0, 0, 1, 1, 1]  # the waiting three used none
    assert {state for state, _ in states(app).values()} == {"pending"}

    update_rows(app, WebhookEndpoint, {}, parked_until=utcnow())  # the park is over
    run_worker()
    assert len(receiver.received) == 4  # one probe, which failed: parked again

    receiver.default = 200
    update_rows(app, WebhookEndpoint, {}, parked_until=utcnow())
    run_worker()
    assert {state for state, _ in states(app).values()} == {"sent"}
    assert len(receiver.received) == 10


def test_a_stopped_worker_hands_back_what_it_did_not_start(app, monkeypatch, put):
    """Told to stop while its first SMS is being sent, a worker finishes that one and
    hands the other claimed items back untried: pending, unleased, no attempt used."""
    started, go_on = threading.Event(), threading.Event()

    def slow_sender(item, payload) -> Outcome:
        started.set()
        go_on.wait(BOUND)
        return Outcome(ok=True)

    monkeypatch.setitem(senders._SENDERS, "sms", slow_sender)
    monkeypatch.delitem(senders._AFTER_SENT, "sms", raising=False)
    first, *others = [put(topic=f"t{n}") for n in range(5)]
    stop = threading.Event()
    thread = threading.Thread(target=_run_until_stopped, args=(app, stop))
    thread.start()
    try:
        assert started.wait(BOUND), "nothing was delivered"
        stop.set()
        assert wait_for(lambda: _handed_back(app) == 4), "the claimed items stayed leased"
    finally:
        go_on.set()
        thread.join(BOUND)
    assert not thread.is_alive()
    now = states(app)
    assert now[first] == ("sent", 1)
    assert [now[public_id] for public_id in others] == [("pending", 0)] * 4


def _handed_back(app) -> int:
    """Pending items leased to nobody."""
    with app.app_context():
        pending = select(OutboxItem).where(
            OutboxItem.state == "pending", OutboxItem.locked_by.is_(None)
        )
        return len(db.session.scalars(pending).all())


def _run_until_stopped(app, stop: threading.Event) -> None:
    with app.app_context():
        Worker(name="stops").run(stop)
