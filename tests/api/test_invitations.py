"""Admin API for invitations (spec §3.3): create with Idempotency-Key, bulk, get,
patch, resend and revoke; their errors are JSON and write nothing."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import creation, service
from app.invitations.validation import InvitationInput
from app.models import Group, IdempotentRequest, Invitation, utcnow
from tests.helpers import invite, row_counts, update_rows

URL = "/api/v1/invitations"
NEW = {"email": "new@example.com", "client_id": "shop"}


@pytest.fixture
def pending(app, invite_client):
    """A pending invitation to the shop that sends no message (so a resend answers its
    new link to whoever may resend)."""
    return invite(app, email="pending@example.com", client_id=invite_client.client_id, notify=False)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["invite_id"][0]


def assert_json_error(response, status: int, error: str | None = None) -> dict:
    """A JSON error body with error and error_description, and the expected status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.json
    assert body["error"] and body["error_description"]
    if error is not None:
        assert body["error"] == error
    return body


# -- create ------------------------------------------------------------------------------


def test_create_returns_the_invitation_with_its_links(client, admin_headers, invite_client):
    """201 with the stored fields, the state and (only now) the link and short link."""
    body = {**NEW, "given_name": "Ada", "expires_in": 3600, "notify": False}
    response = client.post(URL, headers=admin_headers, json=body)
    assert response.status_code == 201, response.json
    got = response.json
    assert (got["email"], got["client_id"], got["given_name"], got["state"]) == (
        "new@example.com",
        "shop",
        "Ada",
        "initiated",
    )
    assert got["link"].startswith("https://rp.example.com/login?from=invite&invite_id=")
    assert got["short_link"] == f"http://localhost/i/{token_of(got['link'])}"
    assert "link" not in client.get(f"{URL}/{got['id']}", headers=admin_headers).json


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ('{"email": "new@example.com",', 400),
        ("[1, 2]", 422),
        ('{"email": "new@example.com", "colour": "blue"}', 422),
        ('{"email": 42}', 422),
        ('{"email": "new@example.com", "notify": "yes"}', 422),
        ('{"email": "new@example.com", "expires_in": "3600"}', 422),
        ('{"email": "new\\u0000@example.com"}', 422),
        ('{"email": "' + "x" * 321 + '"}', 422),
    ],
    ids=[
        "malformed",
        "not an object",
        "unknown field",
        "wrong type",
        "string boolean",
        "string number",
        "NUL",
        "too long",
    ],
)
def test_unparsable_body_is_refused_and_writes_nothing(app, client, admin_headers, data, status):
    """Malformed JSON (400) or a body not matching the schema (422): JSON, no row written."""
    before = row_counts(app)
    response = client.post(URL, headers=admin_headers, data=data, content_type="application/json")
    assert_json_error(response, status, "invalid_request")
    assert row_counts(app) == before


def test_domain_refusal_is_400_naming_the_field(app, client, admin_headers):
    """An invalid email is a 400 with the field; nothing is written."""
    before = row_counts(app)
    response = client.post(URL, headers=admin_headers, json={"email": "not-an-address"})
    assert assert_json_error(response, 400, "invalid_request")["field"] == "email"
    assert row_counts(app) == before


def test_pending_duplicate_is_409_with_its_id(app, client, admin_headers, pending):
    """Inviting the same address to the same client again: 409 naming the pending one."""
    before = row_counts(app)
    response = client.post(URL, headers=admin_headers, json={**NEW, "email": "pending@example.com"})
    assert assert_json_error(response, 409, "conflict")["invitation_id"] == pending.id
    assert row_counts(app) == before


def test_create_without_token_is_401(client, invite_client):
    """No bearer token: 401 with a challenge, even for a malformed body (auth comes first)."""
    response = client.post(URL, data="{", content_type="application/json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- idempotency -------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_answer(app, client, admin_headers, invite_client):
    """A retry with the same Idempotency-Key gets the same 201 body, marked as a replay."""
    keyed = {**admin_headers, "Idempotency-Key": "order-7"}
    first = client.post(URL, headers=keyed, json=NEW)
    again = client.post(URL, headers=keyed, json={"client_id": "shop", "email": NEW["email"]})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert row_counts(app)["invitations"] == 1


def test_same_key_with_another_body_is_refused(app, client, admin_headers, invite_client):
    """Reusing a key for a different request is a 422 and creates nothing."""
    keyed = {**admin_headers, "Idempotency-Key": "order-7"}
    client.post(URL, headers=keyed, json=NEW)
    before = row_counts(app)
    response = client.post(URL, headers=keyed, json={**NEW, "email": "other@example.com"})
    assert_json_error(response, 422, "idempotency_key_reused")
    assert row_counts(app) == before


def test_concurrent_twins_with_one_key_create_one_invitation(app, admin_headers, invite_client):
    """Two simultaneous requests with one key and body: one invitation, the same answer."""
    start = threading.Barrier(2)
    answers = []

    def post() -> None:
        browser = app.test_client()
        start.wait()
        answers.append(
            browser.post(URL, headers={**admin_headers, "Idempotency-Key": "twin"}, json=NEW)
        )

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json["id"] == answers[1].json["id"]
    assert row_counts(app)["invitations"] == 1


def test_keys_are_per_caller(app, client, machine_headers, invite_client):
    """Another caller's identical key is a different key."""
    first = client.post(URL, headers={**machine_headers(), "Idempotency-Key": "k"}, json=NEW)
    other = {**machine_headers(), "Idempotency-Key": "k"}
    second = client.post(URL, headers=other, json={**NEW, "email": "b@example.com"})
    assert (first.status_code, second.status_code) == (201, 201)


def test_refused_request_is_not_remembered(app, client, admin_headers, invite_client):
    """A 400 is not stored: the same key succeeds once the cause is fixed."""
    keyed = {**admin_headers, "Idempotency-Key": "retry-me"}
    body = {**NEW, "groups": ["staff"]}
    assert client.post(URL, headers=keyed, json=body).status_code == 400
    with app.app_context():
        db.session.add(Group(name="staff"))
        db.session.commit()
    response = client.post(URL, headers=keyed, json=body)
    assert response.status_code == 201, response.json
    assert "Idempotent-Replayed" not in response.headers


def test_expired_key_is_forgotten(app, client, admin_headers, invite_client):
    """A key older than IDEMPOTENCY_TTL may be used again for another request."""
    keyed = {**admin_headers, "Idempotency-Key": "old"}
    client.post(URL, headers=keyed, json=NEW)
    old = utcnow() - timedelta(seconds=app.config["IDEMPOTENCY_TTL"] + 1)
    update_rows(app, IdempotentRequest, {}, created_at=old)
    response = client.post(URL, headers=keyed, json={**NEW, "email": "later@example.com"})
    assert response.status_code == 201, response.json
    assert row_counts(app)["idempotent_requests"] == 1


def test_remembered_answer_hides_key_and_link(app, client, admin_headers, invite_client):
    """Neither the key nor the invitation token is stored in clear (spec §2.1)."""
    response = client.post(URL, headers={**admin_headers, "Idempotency-Key": "k-123"}, json=NEW)
    with app.app_context():
        stored = db.session.execute(select(IdempotentRequest.__table__)).one()
    text = " ".join(str(value) for value in stored)
    assert "k-123" not in text
    assert token_of(response.json["link"]) not in text


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_empty_or_over_long_key_is_400(app, client, admin_headers, invite_client, key):
    """An Idempotency-Key must be 1 to 255 characters; otherwise 400 and nothing written."""
    before = row_counts(app)
    response = client.post(URL, headers={**admin_headers, "Idempotency-Key": key}, json=NEW)
    assert assert_json_error(response, 400)["field"] == "Idempotency-Key"
    assert row_counts(app) == before


# -- bulk --------------------------------------------------------------------------------


def test_bulk_reports_each_row_and_keeps_the_good_ones(app, client, admin_headers, invite_client):
    """Bad rows (invalid email, unknown group, duplicate, malformed) fail alone."""
    rows = [
        {"email": "one@example.com", "client_id": "shop"},
        {"email": "not-an-address"},
        {"email": "two@example.com", "groups": ["ghosts"]},
        {"email": "ONE@example.com", "client_id": "shop"},
        {"email": "three@example.com", "colour": "blue"},
        {"mobile_number": "+4915112345678"},
    ]
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["failed"]) == (2, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [201, 400, 400, 409, 422, 201]
    assert results[0]["invitation"]["link"].startswith("https://rp.example.com/login?")
    assert results[1]["field"] == "email" and results[2]["field"] == "groups"
    assert results[3]["invitation_id"] == results[0]["invitation"]["id"]
    assert results[4]["errors"] == {"colour": ["Unknown field."]}
    assert all(r["error"] and r["error_description"] for r in results if r["status"] != 201)
    assert row_counts(app)["invitations"] == 2


def test_bulk_row_for_an_existing_account_is_409(client, admin_headers, factory):
    """A row whose address has an account fails with 409; the others are created."""
    factory.account(email="member@example.com")
    rows = [{"email": "member@example.com"}, {"email": "fresh@example.com"}]
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    assert [r["status"] for r in response.json["results"]] == [409, 201]


def test_bulk_over_the_limit_is_refused_whole(app, client, admin_headers):
    """More than 1,000 rows: 422 and nothing written."""
    rows = [{"email": f"p{n}@example.com"} for n in range(1001)]
    before = row_counts(app)
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    assert "invitations" in assert_json_error(response, 422)["errors"]["json"]
    assert row_counts(app) == before


def test_bulk_limit_comes_from_configuration(app, client, admin_headers, monkeypatch):
    """BULK_INVITATION_LIMIT rows go through; one more is refused."""
    monkeypatch.setitem(app.config, "BULK_INVITATION_LIMIT", 3)
    rows = [{"email": f"p{n}@example.com", "notify": False} for n in range(4)]
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows[:3]})
    assert response.json["created"] == 3
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    assert response.status_code == 422
    assert row_counts(app)["invitations"] == 3


def test_bulk_needs_the_create_scope(app, client, machine_headers):
    """A read-only token cannot bulk-create."""
    response = client.post(
        f"{URL}/bulk",
        headers=machine_headers("invitations:read"),
        json={"invitations": [{"email": "a@example.com"}]},
    )
    assert response.status_code == 403
    assert row_counts(app)["invitations"] == 0


# -- get, patch, resend, revoke --------------------------------------------------------


def test_get_shows_the_invitation_without_links(client, admin_headers, pending):
    """GET by id answers the stored view, never the token."""
    response = client.get(f"{URL}/{pending.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.json["id"] == pending.id and response.json["state"] == "initiated"
    assert pending.token not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"state": "revoked"}),
        ("post", "/resend", None),
        ("post", "/revoke", None),
    ],
)
def test_unknown_id_is_404(client, admin_headers, method, suffix, body):
    """Every per-invitation route answers 404 JSON for an unknown id."""
    response = getattr(client, method)(
        f"{URL}/no-such-id{suffix}", headers=admin_headers, json=body
    )
    assert_json_error(response, 404, "not_found")


def test_patch_reinitiated_resends_with_a_new_link(app, client, admin_headers, pending):
    """PATCH state=reinitiated: 200, new link, the old token no longer finds it."""
    response = client.patch(
        f"{URL}/{pending.id}", headers=admin_headers, json={"state": "reinitiated"}
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "reinitiated" and response.json["resent_count"] == 1
    assert token_of(response.json["link"]) != pending.token
    with app.app_context():
        assert service.find_by_token(pending.token) is None


def test_patch_revoked_revokes(client, admin_headers, pending):
    """PATCH state=revoked: 200 with revoked_at and no link."""
    response = client.patch(f"{URL}/{pending.id}", headers=admin_headers, json={"state": "revoked"})
    assert response.status_code == 200, response.json
    assert response.json["state"] == "revoked" and response.json["revoked_at"]
    assert "link" not in response.json


@pytest.mark.parametrize("body", [{"state": "accepted"}, {"state": "expired"}, {}, {"x": 1}])
def test_patch_other_states_are_422(app, client, admin_headers, pending, body):
    """Only reinitiated and revoked may be requested."""
    before = row_counts(app)
    assert_json_error(client.patch(f"{URL}/{pending.id}", headers=admin_headers, json=body), 422)
    assert row_counts(app) == before


def test_resend_answers_a_fresh_link(app, client, admin_headers, pending):
    """POST .../resend: 200 with the new links; only the new token resolves."""
    response = client.post(f"{URL}/{pending.id}/resend", headers=admin_headers)
    assert response.status_code == 200, response.json
    new_token = token_of(response.json["link"])
    assert response.json["short_link"].endswith(f"/i/{new_token}")
    with app.app_context():
        assert service.find_by_token(pending.token) is None
        assert service.find_by_token(new_token).public_id == pending.id


def test_revoke_then_resend_or_revoke_again_is_409(app, client, admin_headers, pending):
    """A revoked invitation is terminal: further changes are 409 with its state."""
    response = client.post(f"{URL}/{pending.id}/revoke", headers=admin_headers)
    assert response.status_code == 200 and response.json["state"] == "revoked"
    before = row_counts(app)
    for suffix in ("/resend", "/revoke"):
        body = assert_json_error(
            client.post(f"{URL}/{pending.id}{suffix}", headers=admin_headers), 409
        )
        assert (body["error"], body["state"]) == ("invalid_state", "revoked")
    assert row_counts(app) == before


def test_expired_invitation_cannot_be_resent(app, client, admin_headers, pending):
    """An invitation past its expiry is reported expired and cannot be resent."""
    past = utcnow() - timedelta(minutes=1)
    update_rows(app, Invitation, {"public_id": pending.id}, expires_at=past)
    assert client.get(f"{URL}/{pending.id}", headers=admin_headers).json["state"] == "expired"
    response = client.post(f"{URL}/{pending.id}/resend", headers=admin_headers)
    assert assert_json_error(response, 409)["state"] == "expired"


def test_user_invite_may_resend_but_not_revoke(client, person_headers, pending):
    """The user_invite role resends (POST or PATCH) but revoking is 403 insufficient_role."""
    inviter = person_headers(roles=("user_invite",))
    assert client.post(f"{URL}/{pending.id}/resend", headers=inviter).status_code == 200
    patch = client.patch(f"{URL}/{pending.id}", headers=inviter, json={"state": "reinitiated"})
    assert patch.status_code == 200
    for response in (
        client.post(f"{URL}/{pending.id}/revoke", headers=inviter),
        client.patch(f"{URL}/{pending.id}", headers=inviter, json={"state": "revoked"}),
    ):
        assert_json_error(response, 403, "insufficient_role")
    assert client.get(f"{URL}/{pending.id}", headers=inviter).json["state"] == "reinitiated"


def test_secondary_admin_may_revoke(client, person_headers, pending):
    """secondary_admin holds invitations.revoke."""
    response = client.patch(
        f"{URL}/{pending.id}",
        headers=person_headers(roles=("secondary_admin",)),
        json={"state": "revoked"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"), [("patch", ""), ("post", "/resend"), ("post", "/revoke")]
)
def test_changes_need_the_write_scope(client, machine_headers, pending, method, suffix):
    """A read-only token gets 403 insufficient_scope for every change."""
    response = getattr(client, method)(
        f"{URL}/{pending.id}{suffix}",
        headers=machine_headers("invitations:read"),
        json={"state": "revoked"} if method == "patch" else None,
    )
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_routes_need_a_token(client, pending):
    """Every invitation route answers 401 without a bearer token."""
    for method, path in [
        ("get", URL),
        ("get", f"{URL}/stats"),
        ("post", f"{URL}/bulk"),
        ("get", f"{URL}/{pending.id}"),
        ("patch", f"{URL}/{pending.id}"),
        ("post", f"{URL}/{pending.id}/resend"),
        ("post", f"{URL}/{pending.id}/revoke"),
    ]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, (method, path)


def test_nan_in_public_metadata_is_refused_and_nothing_written(
    app, client, admin_headers, invite_client
):
    """JSON with NaN (not valid JSON) in public_metadata → 400 with the field, no row."""
    before = row_counts(app)
    body = '{"email": "nan@example.com", "client_id": "shop", "public_metadata": {"a": NaN}}'
    response = client.post(
        "/api/v1/invitations",
        data=body,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.json
    assert response.status_code != 500
    assert row_counts(app) == before


def test_nul_in_given_name_is_refused_by_the_service(app, invite_client):
    """A NUL character in a name is a field error from the domain, not a database error."""
    from app.invitations.errors import InvalidInvitation

    with app.app_context(), pytest.raises(InvalidInvitation, match="given_name"):
        creation.create(
            InvitationInput(email="nul@example.com", client_id="shop", given_name="A\x00B"),
            "test",
        )


def test_user_invite_cannot_invite_into_roles_beyond_their_own(
    app, client, person_headers, invite_client
):
    """A person with only user_invite may not hand out admin through an invitation;
    the bulk route refuses that row and keeps the others."""
    from app.accounts.service import ensure_role

    with app.app_context():
        ensure_role("admin")
        db.session.commit()
    inviter = person_headers(roles=("user_invite",))
    body = {"email": "mallory@example.com", "client_id": invite_client.client_id}
    before = row_counts(app)
    refused = client.post("/api/v1/invitations", json={**body, "roles": ["admin"]}, headers=inviter)
    assert_json_error(refused, 403, "insufficient_role")
    assert row_counts(app) == before
    bulk = client.post(
        "/api/v1/invitations/bulk",
        json={
            "invitations": [
                {**body, "roles": ["admin"]},
                {"email": "ok@example.com", "client_id": invite_client.client_id},
            ]
        },
        headers=inviter,
    )
    assert [row["status"] for row in bulk.json["results"]] == [403, 201]
    # Within their own powers the same person may invite (no roles asked for).
    allowed = client.post("/api/v1/invitations", json=body, headers=inviter)
    assert allowed.status_code == 201, allowed.json


def test_resend_or_revoke_of_an_invitation_beyond_the_callers_roles_is_refused(
    app, client, person_headers, invite_client
):
    """A user_invite may not resend an admin invitation (the new link would be theirs
    to pass on), nor a secondary_admin revoke one; nothing changes."""
    from app.accounts.service import ensure_role

    with app.app_context():
        ensure_role("admin")
        db.session.commit()
    issued = invite(
        app, email="boss@corp.example", client_id=invite_client.client_id, roles=["admin"]
    )
    inviter = person_headers(roles=("user_invite",))
    before = row_counts(app)
    for response in (
        client.post(f"/api/v1/invitations/{issued.id}/resend", headers=inviter),
        client.patch(
            f"/api/v1/invitations/{issued.id}", json={"state": "reinitiated"}, headers=inviter
        ),
    ):
        assert_json_error(response, 403, "insufficient_role")
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(issued.id).resent_count == 0
    assert client.get(issued.short_link.removeprefix("http://localhost")).status_code == 302


def test_deeply_nested_json_is_a_400(app, client, admin_headers):
    before = row_counts(app)
    response = client.post(
        "/api/v1/invitations",
        data='{"custom_fields": ' * 50_000,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert_json_error(response, 400, "invalid_request")
    assert row_counts(app) == before


# -- a resend answers the new link only to whom it may go (issue 10) ----------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("post", "/resend", None), ("patch", "", {"state": "reinitiated"})],
)
def test_resend_of_a_notifying_invitation_by_another_caller_answers_no_link(
    app, client, admin_headers, invite_client, method, suffix, body
):
    """notify=true and the caller is not its creator: the new link goes out by message
    only; the answer has neither link nor short_link."""
    issued = invite(app, email="ada@example.com", client_id="shop", actor="client:elsewhere")
    response = getattr(client, method)(
        f"{URL}/{issued.id}{suffix}", headers=admin_headers, json=body
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "reinitiated"
    assert "link" not in response.json and "short_link" not in response.json


def test_resend_by_the_creator_answers_the_link(client, admin_headers, invite_client):
    """The creator of a notifying invitation saw its link already: a resend shows the new one."""
    created = client.post(URL, headers=admin_headers, json=NEW)
    assert created.status_code == 201, created.json
    response = client.post(f"{URL}/{created.json['id']}/resend", headers=admin_headers)
    assert response.status_code == 200, response.json
    assert token_of(response.json["link"]) != token_of(created.json["link"])


def test_the_resend_answer_documents_when_the_link_is_left_out(client):
    """The OpenAPI resend answer does not require link; its description says when."""
    spec = client.get("/api/v1/openapi.json").json
    answer = spec["paths"]["/api/v1/invitations/{invitation_id}/resend"]["post"]["responses"]["200"]
    name = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][name]
    assert "link" not in schema.get("required", [])
    assert "creator" in schema["properties"]["link"]["description"]
