"""Fan-out: an event is queued for its subscribers in the transaction of its change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app import events
from app.extensions import db
from app.invitations import creation
from app.invitations.validation import InvitationInput
from app.models import Event, OutboxItem, WebhookEndpoint
from app.outbox.queue import payload_of
from app.webhooks import service
from tests.helpers import invite, obtain_code, sign_in

URL = "https://hr.example/hooks"


def _endpoint(app, types: list[str], enabled: bool = True) -> str:
    with app.app_context():
        issued = service.create(URL, types, "test")
        if not enabled:
            service.update(issued.endpoint.public_id, {"enabled": False}, "test")
        return issued.endpoint.public_id


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_event_and_delivery_roll_back_together(app, shop):
    """If the change that caused an event rolls back, neither event nor delivery exists."""
    _endpoint(app, ["invitation.created"])
    with app.app_context():
        creation.add(
            InvitationInput(email="ada@example.com", client_id="shop", notify=False),
            "t",
        )
        assert db.session.scalar(select(func.count()).select_from(OutboxItem)) == 1
        db.session.rollback()
    assert _count(app, OutboxItem) == 0
    assert _count(app, Event) == 1  # webhook.created only


def test_each_subscribed_enabled_endpoint_gets_one_delivery(app, shop):
    """Only enabled endpoints subscribed to the type get a delivery, each pointing to
    the event; the body is serialised once, at enqueue time."""
    wanted = _endpoint(app, ["invitation.created", "user.created"])
    also = _endpoint(app, ["invitation.created"])
    _endpoint(app, ["invitation.created"], enabled=False)
    _endpoint(app, ["invitation.accepted"])
    invitation = invite(app, email="ada@example.com", client_id="shop", notify=False)
    with app.app_context():
        items = list(db.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        assert [item.kind for item in items] == ["webhook", "webhook"]
        public_ids = dict(
            db.session.execute(select(WebhookEndpoint.id, WebhookEndpoint.public_id)).all()
        )
        assert {public_ids[item.endpoint_id] for item in items} == {wanted, also}
        event = db.session.scalar(select(Event).where(Event.type == "invitation.created"))
        assert {item.event_id for item in items} == {event.id}
        assert {item.topic for item in items} == {"invitation.created"}
        # Listed by origin only (a path or query may hold a token).
        assert {item.recipient for item in items} == {"https://hr.example"}
        bodies = {payload_of(item)["body"] for item in items}
        assert len(bodies) == 1
        body = json.loads(bodies.pop())
        assert body["type"] == "invitation.created"
        assert body["data"]["invitation_id"] == invitation.id
        assert body["data"]["actor"] == "test"


def test_events_without_subscribers_queue_nothing(app, shop):
    """No endpoint, or an event type webhooks do not carry: no outbox row."""
    invite(app, email="ada@example.com", client_id="shop", notify=False)
    _endpoint(app, ["user.created"])
    with app.app_context():
        events.record("group.created", "test", name="staff")
        db.session.commit()
    assert _count(app, OutboxItem) == 0


@pytest.mark.parametrize("path", ["standalone", "paused request"])
def test_sign_in_records_user_login(app, client, factory, path):
    """Both sign-in paths record user.login with the sub, and it is queued for subscribers."""
    _endpoint(app, ["user.login"])
    person = factory.account(email="ada@example.com")
    if path == "standalone":
        assert sign_in(client, person).status_code == 303
    else:
        obtain_code(client, factory.client(), person)
    with app.app_context():
        (event,) = db.session.scalars(select(Event).where(Event.type == "user.login"))
        assert event.data == {"sub": person.sub}
        assert event.actor == f"account:{person.sub}"
        (item,) = db.session.scalars(select(OutboxItem))
        assert item.topic == "user.login" and item.event_id == event.id


def test_a_failed_sign_in_records_nothing(app, client, factory):
    """A wrong password is no user.login."""
    person = factory.account(email="ada@example.com")
    person.password = "wrong password!"
    sign_in(client, person)
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.type == "user.login")) is None
