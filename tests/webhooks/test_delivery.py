"""Signed delivery to a real receiver: the invitation journey, retries, dead and replay."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.registration import Registration, register_invited
from app.extensions import db
from app.invitations import service as invitations
from app.models import OutboxItem, utcnow
from tests.helpers import PASSWORD, invite, update_rows
from tests.webhooks.conftest import WEBHOOKS, signature_is_valid

INVITATION_EVENTS = ["invitation.created", "invitation.accepted"]


def _accept(app, token: str) -> str:
    """Register the invited person; returns their sub."""
    with app.app_context():
        account = register_invited(invitations.find_by_token(token), Registration(PASSWORD))
        return account.sub


def _make_due(app) -> None:
    """Bring every pending item's next attempt to now (instead of waiting the backoff)."""
    update_rows(app, OutboxItem, {"state": "pending"}, next_attempt_at=utcnow())


def _deliveries(client, headers, endpoint_id: str) -> list[dict]:
    response = client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_invitation_journey_is_delivered_signed(
    app, client, shop, receiver, register_endpoint, webhook_headers, run_worker
):
    """Creating and accepting an invitation delivers invitation.created and
    invitation.accepted (not user.created, which is not subscribed), each signed with
    the endpoint's secret, carrying the invitation id and the new account's sub."""
    endpoint = register_endpoint(receiver.url, INVITATION_EVENTS)
    invitation = invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    sub = _accept(app, invitation.token)

    # The two deliveries, and the verification email (a handed-over link proves no address).
    assert run_worker() == 3
    assert receiver.types() == INVITATION_EVENTS
    for request in receiver.received:
        assert signature_is_valid(endpoint["secret"], request.headers, request.body)
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"].startswith("msg_")
        assert request.headers["user-agent"].startswith("Vestibule")
        assert set(request.json) == {"type", "timestamp", "data"}
    created, accepted = (request.json for request in receiver.received)
    assert created["data"]["invitation_id"] == invitation.id
    assert created["data"]["to_state"] == "initiated"
    assert accepted["data"] == {
        "invitation_id": invitation.id,
        "sub": sub,
        "actor": f"account:{sub}",
        "from_state": "initiated",
        "to_state": "accepted",
    }
    assert accepted["timestamp"].endswith("Z")
    ids = {request.headers["webhook-id"] for request in receiver.received}
    listed = _deliveries(client, webhook_headers, endpoint["id"])
    assert {item["webhook_id"] for item in listed} == ids
    assert [item["state"] for item in listed] == ["sent", "sent"]


def test_the_checker_refuses_a_wrong_secret_or_a_changed_body(
    app, shop, receiver, register_endpoint, run_worker
):
    """The independent checker is not vacuous: another secret, a changed body or an
    old timestamp fail."""
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    other = register_endpoint(receiver.url, ["user.login"])
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    run_worker()
    (request,) = receiver.received
    assert signature_is_valid(endpoint["secret"], request.headers, request.body)
    assert not signature_is_valid(other["secret"], request.headers, request.body)
    assert not signature_is_valid(endpoint["secret"], request.headers, request.body + b" ")
    stale = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 600),
    }
    assert not signature_is_valid(endpoint["secret"], stale, request.body)


def test_a_failed_delivery_is_retried_with_the_same_id_and_body(
    app, client, shop, receiver, register_endpoint, webhook_headers, run_worker
):
    """500 then 200: the second attempt delivers the same webhook-id and the same bytes,
    freshly signed; the attempt log shows both with status and latency."""
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    receiver.answers = [500]
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)

    assert run_worker() == 1
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"] == "HTTP 500"
    _make_due(app)
    assert run_worker() == 1

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert signature_is_valid(endpoint["secret"], second.headers, second.body)
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "sent" and delivery["last_error"] is None
    log = delivery["attempt_log"]
    assert [(a["number"], a["ok"], a["status_code"]) for a in log] == [
        (1, False, 500),
        (2, True, 200),
    ]
    assert log[0]["response_excerpt"] == "answered 500"
    assert all(a["latency_ms"] >= 0 and a["started_at"] for a in log)


def test_a_receiver_that_keeps_failing_ends_dead_and_replay_revives_it(
    app, client, shop, receiver, register_endpoint, webhook_headers, run_worker, monkeypatch
):
    """Always 500: dead after OUTBOX_MAX_ATTEMPTS, shown dead by the API; a replay once
    the receiver recovers delivers it, with the same webhook-id."""
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    receiver.default = 500
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    for _ in range(3):
        assert run_worker() == 1
        _make_due(app)
    assert run_worker() == 0
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "dead" and delivery["dead_at"]
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 500]

    receiver.default = 200
    replayed = client.post(
        f"{WEBHOOKS}/deliveries/{delivery['id']}/replay", headers=webhook_headers
    )
    assert replayed.status_code == 200, replayed.json
    assert replayed.json["state"] == "pending"
    again = client.post(f"{WEBHOOKS}/deliveries/{delivery['id']}/replay", headers=webhook_headers)
    assert again.status_code == 409
    assert run_worker() == 1
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "sent"
    assert len(delivery["attempt_log"]) == 4
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    assert len(receiver.received) == 4


def test_a_closed_port_is_retried_then_dead(
    app, client, shop, closed_port_url, register_endpoint, webhook_headers, run_worker, monkeypatch
):
    """Nothing listening: each attempt logs the connection error (no status); dead at
    the limit."""
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    endpoint = register_endpoint(closed_port_url, ["invitation.created"])
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    run_worker()
    _make_due(app)
    run_worker()
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "dead"
    for attempt in delivery["attempt_log"]:
        assert attempt["ok"] is False and attempt["status_code"] is None
        assert "refused" in attempt["error"].lower()


def test_a_disabled_endpoint_ends_its_queued_deliveries(
    app, client, shop, receiver, register_endpoint, webhook_headers, run_worker
):
    """Disabled after the event was queued: the delivery is dead at once ("endpoint
    disabled"), nothing is sent, and replay is refused until it is enabled again."""
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    url = f"{WEBHOOKS}/{endpoint['id']}"
    assert client.patch(url, headers=webhook_headers, json={"enabled": False}).status_code == 200
    run_worker()
    assert receiver.received == []
    (delivery,) = _deliveries(client, webhook_headers, endpoint["id"])
    assert delivery["state"] == "dead" and delivery["last_error"] == "endpoint disabled"
    replay = f"{WEBHOOKS}/deliveries/{delivery['id']}/replay"
    assert client.post(replay, headers=webhook_headers).status_code == 409
    assert client.patch(url, headers=webhook_headers, json={"enabled": True}).status_code == 200
    assert client.post(replay, headers=webhook_headers).status_code == 200
    run_worker()
    assert receiver.types() == ["invitation.created"]


def test_a_redirect_is_not_followed(app, shop, receiver, register_endpoint, run_worker):
    """A 302 answer is a failed attempt (the body is never re-posted elsewhere)."""
    register_endpoint(receiver.url, ["invitation.created"])
    receiver.answers = [302]
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    run_worker()
    with app.app_context():
        item = db.session.scalar(select(OutboxItem))
        assert item.state == "pending" and item.last_error == "HTTP 302"
        assert item.attempt_log[0].status_code == 302
    assert len(receiver.received) == 1


def test_rotating_the_secret_signs_queued_deliveries_with_the_new_one(
    app, client, shop, receiver, register_endpoint, webhook_headers, run_worker
):
    """After rotation the old secret no longer verifies; the new one does."""
    endpoint = register_endpoint(receiver.url, ["invitation.created"])
    invite(app, email="ada@example.com", client_id=shop.client_id, notify=False)
    rotated = client.post(f"{WEBHOOKS}/{endpoint['id']}/rotate-secret", headers=webhook_headers)
    assert rotated.status_code == 200
    new_secret = rotated.json["secret"]
    assert new_secret != endpoint["secret"] and new_secret.startswith("whsec_")
    run_worker()
    (request,) = receiver.received
    assert signature_is_valid(new_secret, request.headers, request.body)
    assert not signature_is_valid(endpoint["secret"], request.headers, request.body)


def test_invitation_sent_follows_the_email(app, shop, receiver, register_endpoint, run_worker):
    """The invitation email going out records invitation.sent in the worker's
    transaction, which queues its webhook; the next run delivers it."""
    register_endpoint(receiver.url, ["invitation.sent"])
    invitation = invite(app, email="ada@example.com", client_id=shop.client_id)
    run_worker()
    run_worker()
    (request,) = receiver.received
    assert request.json["type"] == "invitation.sent"
    assert request.json["data"]["invitation_id"] == invitation.id
