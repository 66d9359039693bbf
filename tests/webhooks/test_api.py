"""Admin API: webhook endpoints. The secret is shown once and stored sealed; bad input
is refused with nothing written; every route needs the webhook scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.crypto import unseal
from app.extensions import db
from tests.helpers import row_counts
from tests.webhooks.conftest import WEBHOOK_SCOPES, WEBHOOKS

URL = "https://hr.example/hooks/vestibule"


def test_create_shows_the_secret_once_and_stores_it_sealed(app, client, webhook_headers):
    """201 carries a whsec_ secret; GET and the list never do; the row holds it sealed."""
    response = client.post(
        WEBHOOKS,
        headers=webhook_headers,
        json={"url": URL, "event_types": ["invitation.accepted"], "description": "HR"},
    )
    assert response.status_code == 201, response.json
    created = response.json
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    assert created["event_types"] == ["invitation.accepted"]
    assert created["enabled"] is True and created["description"] == "HR"
    assert created["created_by"].startswith("client:")

    shown = client.get(f"{WEBHOOKS}/{created['id']}", headers=webhook_headers)
    listed = client.get(WEBHOOKS, headers=webhook_headers)
    assert shown.status_code == listed.status_code == 200
    assert "secret" not in shown.json and secret not in shown.get_data(as_text=True)
    assert [item["id"] for item in listed.json["items"]] == [created["id"]]
    assert secret not in listed.get_data(as_text=True)

    with app.app_context():
        row = db.session.execute(text("SELECT * FROM webhook_endpoints")).mappings().one()
        stored = " ".join(str(value) for value in row.values())
        assert secret not in stored and secret.removeprefix("whsec_") not in stored
        assert unseal(row["secret_sealed"], "webhook-secret") == secret


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"url": "ftp://hr.example/hooks", "event_types": ["user.created"]}, 400, "url"),
        ({"url": "https:///no-host", "event_types": ["user.created"]}, 400, "url"),
        ({"url": "hr.example/hooks", "event_types": ["user.created"]}, 400, "url"),
        ({"url": "https://user:pw@hr.example/", "event_types": ["user.created"]}, 400, "url"),
        ({"url": "https://hr.example:99999/", "event_types": ["user.created"]}, 400, "url"),
        ({"url": "https://hr.example/" + "a" * 2048, "event_types": ["user.created"]}, 422, "url"),
        (
            {"url": URL, "event_types": ["user.created", "invitation.eaten"]},
            400,
            "invitation.eaten",
        ),
        ({"url": URL, "event_types": []}, 422, "event_types"),
        ({"url": URL}, 422, "event_types"),
        ({"url": URL, "event_types": "user.created"}, 422, "event_types"),
    ],
)
def test_bad_endpoints_are_refused_and_nothing_is_written(
    app, client, webhook_headers, body, status, named
):
    """A non-http(s), host-less, credentialed or too long URL, an unknown event type
    (named in the answer) or no event type: refused, no row written."""
    before = row_counts(app)
    response = client.post(WEBHOOKS, headers=webhook_headers, json=body)
    assert response.status_code == status, response.json
    assert named in response.get_data(as_text=True)
    assert response.json["error"] == "invalid_request"
    assert row_counts(app) == before


def test_update_rotate_and_delete(app, client, webhook_headers, register_endpoint):
    """PATCH changes the given fields only (checked like on create); rotation shows a
    new secret once; DELETE removes the endpoint, after which it is 404."""
    endpoint = register_endpoint(URL, ["user.created"], description="first")
    url = f"{WEBHOOKS}/{endpoint['id']}"
    changed = client.patch(
        url,
        headers=webhook_headers,
        json={"event_types": ["user.login", "user.created", "user.login"], "enabled": False},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["event_types"] == ["user.login", "user.created"]
    assert changed.json["enabled"] is False
    assert changed.json["description"] == "first" and changed.json["url"] == URL
    assert changed.json["updated_at"]

    before = row_counts(app)
    refused = client.patch(url, headers=webhook_headers, json={"url": "javascript:alert(1)"})
    assert refused.status_code == 400 and refused.json["field"] == "url"
    assert client.patch(url, headers=webhook_headers, json={"enabled": "no"}).status_code == 422
    assert row_counts(app) == before

    rotated = client.post(f"{url}/rotate-secret", headers=webhook_headers)
    assert rotated.status_code == 200
    assert rotated.json["secret"].startswith("whsec_")
    assert rotated.json["secret"] != endpoint["secret"]

    assert client.delete(url, headers=webhook_headers).status_code == 204
    assert client.get(url, headers=webhook_headers).status_code == 404
    assert client.delete(url, headers=webhook_headers).status_code == 404


def test_unknown_ids_are_404(client, webhook_headers):
    """Unknown endpoint and delivery ids answer 404 in JSON."""
    for method, path in [
        ("get", f"{WEBHOOKS}/nope"),
        ("get", f"{WEBHOOKS}/nope/deliveries"),
        ("post", f"{WEBHOOKS}/nope/rotate-secret"),
        ("post", f"{WEBHOOKS}/deliveries/nope/replay"),
    ]:
        response = getattr(client, method)(path, headers=webhook_headers)
        assert response.status_code == 404, path
        assert response.json["error"] == "not_found"


def test_changes_to_endpoints_are_audited(app, client, webhook_headers, register_endpoint):
    """Creating, changing, rotating and deleting an endpoint are events with the actor
    (and the host, never the whole URL)."""
    endpoint = register_endpoint(URL + "?token=abc", ["user.created"])
    url = f"{WEBHOOKS}/{endpoint['id']}"
    client.patch(url, headers=webhook_headers, json={"enabled": False})
    client.post(f"{url}/rotate-secret", headers=webhook_headers)
    client.delete(url, headers=webhook_headers)
    with app.app_context():
        rows = db.session.execute(text("SELECT type, actor, data FROM events ORDER BY id")).all()
    assert [row.type for row in rows] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert all(row.actor == endpoint["created_by"] for row in rows)
    assert "token=abc" not in " ".join(str(row.data) for row in rows)


def test_routes_need_the_webhook_scopes(client, machine_headers, webhook_headers):
    """Without a token 401; with invitation scopes only 403; read scope cannot write."""
    assert client.get(WEBHOOKS).status_code == 401
    other = machine_headers(scope="invitations:read invitations:write")
    assert client.get(WEBHOOKS, headers=other).status_code == 403
    reader = machine_headers(scope="webhooks:read")
    assert client.get(WEBHOOKS, headers=reader).status_code == 200
    body = {"url": URL, "event_types": ["user.created"]}
    assert client.post(WEBHOOKS, headers=reader, json=body).status_code == 403


@pytest.mark.parametrize(("role", "status"), [("secondary_admin", 403), ("admin", 201)])
def test_webhooks_are_for_admins_only(client, person_headers, role, status):
    """A person's token with the webhook scopes works for an admin only."""
    headers = person_headers(roles=(role,), scope=WEBHOOK_SCOPES)
    body = {"url": URL, "event_types": ["user.created"]}
    created = client.post(WEBHOOKS, headers=headers, json=body)
    assert created.status_code == status, created.json
    if status == 201:
        assert created.json["created_by"].startswith("account:")


def test_deliveries_page_newest_first(app, client, webhook_headers, register_endpoint, factory):
    """Deliveries list newest first, a page at a time, and filter by state."""
    endpoint = register_endpoint(URL, ["user.created"])
    for number in range(3):
        factory.account(email=f"p{number}@example.com")
    url = f"{WEBHOOKS}/{endpoint['id']}/deliveries"
    first = client.get(url, headers=webhook_headers, query_string={"limit": 2}).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        url, headers=webhook_headers, query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).json
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert len(set(ids)) == 3
    with app.app_context():
        order = db.session.execute(text("SELECT public_id FROM outbox ORDER BY id DESC")).scalars()
        assert ids == list(order)
    dead = client.get(url, headers=webhook_headers, query_string={"state": "dead"}).json
    assert dead["items"] == []
