"""After an outage: dead items retried in bulk through the admin API and the CLI (by
when they died, kind and endpoint; bad filters refused with nothing changed), and the
request id that follows a request to its deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.extensions import db
from app.invitations import creation
from app.invitations.validation import InvitationInput
from app.models import Event, OutboxItem, WebhookEndpoint, utcnow
from app.outbox import queue
from app.outbox.worker import Worker
from tests.helpers import row_counts, update_rows

RETRY = "/api/v1/outbox/retry"


@pytest.fixture
def dead(app):
    """``dead(kind, minutes_ago, endpoint=None)``: a dead item that died then; its id."""

    def make(kind: str, minutes_ago: int, endpoint: str | None = None) -> str:
        with app.app_context():
            endpoint_id = None
            if endpoint is not None:
                found = select(WebhookEndpoint.id).where(WebhookEndpoint.public_id == endpoint)
                endpoint_id = db.session.scalar(found)
            item = queue.enqueue(kind, "t", "somewhere", {"text": "hi"}, endpoint_id=endpoint_id)
            item.state, item.attempts = "dead", item.max_attempts
            item.dead_at = utcnow() - timedelta(minutes=minutes_ago)
            db.session.commit()
            return item.public_id

    return make


def outbox_states(app) -> dict[str, tuple[str, int]]:
    """Every item's (state, attempts), by public id."""
    with app.app_context():
        items = db.session.scalars(select(OutboxItem))
        return {item.public_id: (item.state, item.attempts) for item in items}


def test_api_retries_what_died_since(app, client, admin_headers, dead):
    """Items dead in the last hour are pending again with fresh attempts; an older one
    stays dead; the answer counts them and the audit log records who did it."""
    old, email, sms = dead("email", 120), dead("email", 10), dead("sms", 5)
    response = client.post(RETRY, json={"state": "dead", "since": "1h"}, headers=admin_headers)
    assert response.status_code == 200, response.json
    assert response.json == {"requeued": 2}
    states = outbox_states(app)
    assert states[email] == states[sms] == ("pending", 0)
    assert states[old][0] == "dead"
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.type == "outbox.retried"))
        assert event.data["count"] == 2 and event.actor.startswith("client:")


def test_api_retry_by_kind_and_by_iso_time(app, client, admin_headers, dead):
    """``kind`` keeps to one lane; ``since`` may be an ISO 8601 time."""
    email, sms = dead("email", 10), dead("sms", 10)
    since = (utcnow() - timedelta(minutes=30)).isoformat()
    body = {"state": "dead", "since": since, "kind": "sms"}
    response = client.post(RETRY, json=body, headers=admin_headers)
    assert response.json == {"requeued": 1}
    states = outbox_states(app)
    assert states[sms][0] == "pending" and states[email][0] == "dead"


def test_api_retry_by_endpoint(app, client, admin_headers, dead, receiver, register_endpoint):
    """``endpoint`` keeps to one webhook endpoint; deliveries to a disabled endpoint
    stay dead, and naming one is a conflict."""
    first = register_endpoint(receiver.url, ["invitation.created"])["id"]
    second = register_endpoint(receiver.url_for("/other"), ["invitation.created"])["id"]
    to_first, to_second = dead("webhook", 10, first), dead("webhook", 10, second)
    body = {"state": "dead", "since": "1h", "endpoint": first}
    assert client.post(RETRY, json=body, headers=admin_headers).json == {"requeued": 1}
    assert outbox_states(app)[to_first][0] == "pending"
    assert outbox_states(app)[to_second][0] == "dead"

    update_rows(app, WebhookEndpoint, {"public_id": second}, enabled=False)
    everything = client.post(RETRY, json={"state": "dead", "since": "1h"}, headers=admin_headers)
    assert everything.json == {"requeued": 0}
    refused = client.post(RETRY, json={**body, "endpoint": second}, headers=admin_headers)
    assert refused.status_code == 409
    assert outbox_states(app)[to_second][0] == "dead"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"state": "dead", "since": "yesterday"}, 400, "since"),
        ({"state": "dead", "since": "2999-01-01T00:00:00Z"}, 400, "since"),
        ({"state": "dead", "since": "0m"}, 400, "since"),
        ({"state": "dead", "since": "1h", "endpoint": "no-such-endpoint"}, 400, "endpoint"),
        ({"state": "dead", "since": "1h", "kind": "email", "endpoint": "x"}, 400, "endpoint"),
        ({"state": "sent", "since": "1h"}, 422, None),
        ({"state": "dead"}, 422, None),
        ({"state": "dead", "since": "1h", "kind": "fax"}, 422, None),
        ({"state": "dead", "since": "1h", "colour": "red"}, 422, None),
    ],
)
def test_api_bad_filters_change_nothing(app, client, admin_headers, dead, body, status, field):
    """A filter that cannot be used is a clear error naming what is wrong; nothing is
    retried and nothing is written."""
    dead("email", 10)
    before, states = row_counts(app), outbox_states(app)
    response = client.post(RETRY, json=body, headers=admin_headers)
    assert response.status_code == status, response.json
    assert response.json["error"] == "invalid_request"
    if field:
        assert response.json["field"] == field
    assert row_counts(app) == before and outbox_states(app) == states


def test_api_retry_needs_outbox_write(client, machine_headers, person_headers, dead):
    """outbox:read, or a person whose role may not manage the outbox, is refused."""
    dead("email", 10)
    body = {"state": "dead", "since": "1h"}
    assert client.post(RETRY, json=body).status_code == 401
    reader = machine_headers(scope="outbox:read")
    assert client.post(RETRY, json=body, headers=reader).status_code == 403
    inviter = person_headers(roles=("user_invite",))
    assert client.post(RETRY, json=body, headers=inviter).status_code == 403


def test_openapi_documents_the_bulk_retry(client):
    """The spec lists the operation, its body and its scope."""
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"][RETRY]["post"]
    assert operation["security"] == [{"bearerAuth": ["outbox:write"]}]
    assert {"200", "400", "409", "422"} <= set(operation["responses"])
    body = spec["components"]["schemas"]["BulkRetry"]
    assert set(body["required"]) == {"state", "since"}


def test_cli_bulk_retry(app, dead):
    """``outbox retry --state dead --since`` with ``--kind``; bad input exits non-zero
    with a reason and changes nothing."""
    email, sms = dead("email", 10), dead("sms", 10)
    runner = app.test_cli_runner()
    only_sms = runner.invoke(
        args=["outbox", "retry", "--state", "dead", "--since", "2h", "--kind", "sms"]
    )
    assert only_sms.exit_code == 0, only_sms.output
    assert only_sms.output.startswith("1 items")
    assert outbox_states(app)[sms][0] == "pending" and outbox_states(app)[email][0] == "dead"

    states = outbox_states(app)
    for args, reason in [
        (["--state", "dead", "--since", "last week"], "since:"),
        (["--state", "dead"], "both --state dead and --since"),
        ([email, "--state", "dead", "--since", "1h"], "one item id, or"),
        ([], "one item id, or"),
    ]:
        refused = runner.invoke(args=["outbox", "retry", *args])
        assert refused.exit_code != 0 and reason in refused.output, (args, refused.output)
    assert outbox_states(app) == states


def test_request_id_follows_a_request_to_its_deliveries(
    app, client, admin_headers, receiver, register_endpoint
):
    """An invitation email queued while serving request ``req-42`` carries its id; so do
    its attempt, its API detail, and the invitation.sent webhook its delivery causes."""
    register_endpoint(receiver.url, ["invitation.sent"])
    with app.test_request_context():
        g.request_id = "req-42"
        creation.create(InvitationInput(email="ada@example.com"), "test")
    with app.app_context():
        Worker(name="w").run_once()  # the email; its invitation.sent webhook is queued
        Worker(name="w").run_once()  # the webhook
        items = db.session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [(item.kind, item.request_id) for item in items] == [
            ("email", "req-42"),
            ("webhook", "req-42"),
        ]
        email = items[0].public_id
    detail = client.get(f"/api/v1/outbox/{email}", headers=admin_headers).json
    assert detail["request_id"] == "req-42"
    assert [attempt["request_id"] for attempt in detail["attempt_log"]] == ["req-42"]
    assert len(receiver.received) == 1


def test_an_api_request_stamps_its_id_on_what_it_queues(app, client, admin_headers, invite_client):
    """POST /api/v1/invitations with X-Request-Id: its email in the outbox carries it."""
    headers = {**admin_headers, "X-Request-Id": "trace-7f3a"}
    body = {"email": "grace@example.com", "client_id": "shop"}
    response = client.post("/api/v1/invitations", json=body, headers=headers)
    assert response.status_code == 201, response.json
    with app.app_context():
        stamped = db.session.scalars(select(OutboxItem.request_id)).all()
    assert stamped == ["trace-7f3a"]
