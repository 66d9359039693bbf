"""The outbox worker's mechanics (spec §5, §6): at least once, retries with backoff
and jitter, a dead state, leases that survive a dead worker, sealed payloads."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.errors import Conflict
from app.extensions import db
from app.models import DeliveryAttempt, OutboxItem, utcnow
from app.outbox import queue
from app.outbox.outcomes import backoff
from app.outbox.senders import Outcome
from app.outbox.worker import Worker
from tests.helpers import update_rows


def _item(app, public_id: str) -> OutboxItem:
    with app.app_context():
        item = queue.find(public_id)
        item.attempt_log  # noqa: B018 (load while the session is open)
        db.session.expunge(item)
        return item


def _run(app, name: str = "w1") -> int:
    with app.app_context():
        return Worker(name=name).run_once()


def test_enqueue_belongs_to_the_callers_transaction(app, recorder):
    """Rolled back with its cause: no message exists without it."""
    with app.app_context():
        queue.enqueue("sms", "test", "+4915112345678", {"text": "hi"})
        db.session.rollback()
        assert db.session.scalar(select(OutboxItem)) is None


def test_delivers_once_and_logs_the_attempt(app, recorder, put):
    public_id = put()
    assert _run(app) == 1
    assert recorder.delivered == [public_id]
    item = _item(app, public_id)
    assert item.state == "sent" and item.attempts == 1 and item.sent_at is not None
    assert item.locked_until is None
    [attempt] = item.attempt_log
    assert attempt.ok and attempt.number == 1 and attempt.status_code == 200
    assert attempt.worker == "w1" and attempt.latency_ms >= 0
    assert _run(app) == 0  # nothing left
    assert recorder.delivered == [public_id]


def test_failure_is_retried_later_with_backoff(app, recorder, put):
    recorder.script = [Outcome(ok=False, status_code=503, excerpt="busy", error="HTTP 503")]
    public_id = put()
    before = utcnow()
    _run(app)
    item = _item(app, public_id)
    assert item.state == "pending" and item.attempts == 1
    assert item.last_error == "HTTP 503"
    base = app.config["OUTBOX_BACKOFF_BASE"]
    wait = (item.next_attempt_at - before).total_seconds()
    assert base * 0.5 - 1 <= wait <= base + 1
    assert _run(app) == 0  # not due yet
    update_rows(app, OutboxItem, {"public_id": public_id}, next_attempt_at=utcnow())
    assert _run(app) == 1
    item = _item(app, public_id)
    assert item.state == "sent" and item.attempts == 2
    assert [(a.ok, a.status_code, a.response_excerpt) for a in item.attempt_log] == [
        (False, 503, "busy"),
        (True, 200, None),
    ]


def test_an_exception_counts_as_a_failed_attempt(app, recorder, put):
    recorder.script = [ConnectionRefusedError("connection refused")]
    public_id = put()
    _run(app)
    item = _item(app, public_id)
    assert item.state == "pending"
    assert "ConnectionRefusedError" in item.last_error
    assert item.attempt_log[0].ok is False


def test_dead_after_max_attempts_then_retried(app, recorder, put, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    recorder.script = [Outcome(ok=False, error="down")] * 3
    public_id = put()
    for _ in range(3):
        update_rows(app, OutboxItem, {"public_id": public_id}, next_attempt_at=utcnow())
        _run(app)
    item = _item(app, public_id)
    assert item.state == "dead" and item.dead_at is not None and item.attempts == 3
    assert len(item.attempt_log) == 3
    with app.app_context():
        queue.requeue(public_id)
    assert _run(app) == 1
    item = _item(app, public_id)
    assert item.state == "sent" and len(item.attempt_log) == 4
    assert recorder.delivered == [public_id]


def test_permanent_failure_is_dead_at_once(app, recorder, put):
    recorder.script = [Outcome(ok=False, status_code=550, error="no such user", permanent=True)]
    public_id = put()
    _run(app)
    assert _item(app, public_id).state == "dead"


def test_a_claimed_item_waits_for_the_lease(app, recorder, put):
    """A worker that claimed and died: nobody else takes the item until its lease ends,
    then it is delivered (at least once, never lost)."""
    public_id = put()
    with app.app_context():
        assert Worker(name="dies").claim() != []
    assert _run(app, "w2") == 0
    update_rows(app, OutboxItem, {"public_id": public_id}, locked_until=utcnow())
    assert _run(app, "w2") == 1
    item = _item(app, public_id)
    assert item.state == "sent" and item.attempts == 2  # the dead worker's try counts
    assert recorder.delivered == [public_id]


def test_parallel_workers_deliver_each_item_once(app, recorder, put):
    ids = [put(topic=f"t{n}") for n in range(40)]
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with app.app_context():
                runner = Worker(name=name, batch=5)
                while runner.run_once():
                    pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(recorder.delivered) == sorted(ids)
    with app.app_context():
        states = set(db.session.scalars(select(OutboxItem.state)))
        assert states == {"sent"}
        assert db.session.query(DeliveryAttempt).count() == 40


def test_payload_is_sealed_at_rest(app, put):
    put(link="https://id.example/i/SECRET-TOKEN-123")
    with app.app_context():
        raw = db.session.execute(text("SELECT payload FROM outbox")).scalar_one()
        assert "SECRET-TOKEN-123" not in raw
        item = db.session.scalar(select(OutboxItem))
        assert queue.payload_of(item)["link"].endswith("SECRET-TOKEN-123")


def test_requeue_refuses_a_pending_item(app, put):
    public_id = put()
    with app.app_context(), pytest.raises(Conflict):
        queue.requeue(public_id)


def test_backoff_doubles_up_to_the_cap(app):
    with app.app_context():
        base = app.config["OUTBOX_BACKOFF_BASE"]
        cap = app.config["OUTBOX_BACKOFF_MAX"]
        for attempts in (1, 2, 5):
            step = min(cap, base * 2 ** (attempts - 1))
            values = [backoff(attempts) for _ in range(50)]
            assert all(step / 2 <= v <= step for v in values)
            assert len(set(values)) > 1  # jittered
        assert all(backoff(40) <= cap for _ in range(20))


def test_run_loop_stops_when_told(app, recorder, put):
    for n in range(3):
        put(topic=f"t{n}")
    stop = threading.Event()
    with app.app_context():
        done = Worker(name="loop").run(stop, max_items=3)
    assert done == 3 and len(recorder.delivered) == 3


def test_old_item_is_due_before_new(app, recorder, put):
    first = put(topic="first")
    second = put(topic="second")
    update_rows(
        app, OutboxItem, {"public_id": second}, next_attempt_at=utcnow() - timedelta(minutes=5)
    )
    _run(app)
    assert recorder.delivered == [second, first]


def test_an_item_deleted_after_its_claim_is_skipped(app, recorder, put):
    """Its endpoint was removed meanwhile: the worker carries on."""
    public_id = put()
    with app.app_context():
        runner = Worker(name="w")
        [item_id] = runner.claim()
        db.session.delete(queue.find(public_id))
        db.session.commit()
        outcome = runner.deliver(item_id)
    assert outcome.ok is False and recorder.delivered == []


def test_an_answer_the_database_cannot_store_is_cleaned(app, recorder, put):
    """A receiver chooses its answer: NUL and overlong text must not make the outcome
    unrecordable (on PostgreSQL that would resend the item for ever)."""
    recorder.script = [Outcome(ok=False, status_code=500, excerpt="no\x00pe", error="e" * 2000)]
    public_id = put()
    _run(app)
    item = _item(app, public_id)
    assert item.state == "pending" and item.attempts == 1
    assert len(item.last_error) == 500
    assert item.attempt_log[0].response_excerpt == "nope"


def test_an_item_that_stops_every_worker_ends_dead(app, recorder, put, monkeypatch):
    """Claimed, then no outcome (the worker died) as often as attempts allow: dead."""
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    public_id = put()
    for name in ("dies-1", "dies-2"):
        with app.app_context():
            assert Worker(name=name).claim() != []
        update_rows(app, OutboxItem, {"public_id": public_id}, locked_until=utcnow())
    assert _run(app, "w3") == 0
    item = _item(app, public_id)
    assert item.state == "dead" and "stopped during every attempt" in item.last_error
    assert recorder.delivered == []


def test_a_worker_that_lost_its_lease_does_not_send(app, recorder, put):
    """Another worker took the item after the lease ran out: the first one skips it."""
    public_id = put()
    with app.app_context():
        slow = Worker(name="slow")
        [item_id] = slow.claim()
    update_rows(app, OutboxItem, {"public_id": public_id}, locked_until=utcnow())
    with app.app_context():
        assert Worker(name="fast").claim() == [item_id]
        outcome = slow.deliver(item_id)
    assert outcome.ok is False and recorder.delivered == []
    assert _item(app, public_id).locked_by == "fast"


def test_a_payload_sealed_with_an_old_key(app, recorder, put, monkeypatch):
    """After SECRET_KEY changes, items open with SECRET_KEY_FALLBACKS; without it they
    are dead at once with a clear reason, not retried for hours."""
    first, second = put(topic="one"), put(topic="two")
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    with app.app_context():
        runner = Worker(name="w", batch=1)
        assert runner.run_once() == 1  # the first item, opened with the fallback
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    _run(app)
    assert _item(app, first).state == "sent"
    dead = _item(app, second)
    assert dead.state == "dead" and "SECRET_KEY" in dead.last_error
