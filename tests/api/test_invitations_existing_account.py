"""Admin API: inviting a person who already has an account (issue 15): the field
``existing_account: "join"``, its refusals (which write nothing), the 409 without it
naming the account to callers allowed to read users, bulk rows, the OpenAPI spec."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Group
from tests.api.test_invitations import assert_json_error
from tests.helpers import row_counts

URL = "/api/v1/invitations"
MEMBER = "member@example.com"


@pytest.fixture
def member(app, factory):
    """An account, and a group to invite it to."""
    with app.app_context():
        db.session.add(Group(name="staff"))
        db.session.commit()
    return factory.account(MEMBER)


def test_join_creates_an_invitation_for_the_account(client, admin_headers, invite_client, member):
    """201; the invitation says existing_account join and is pending; no account is
    linked until it is accepted."""
    body = {"email": MEMBER, "client_id": "shop", "groups": ["staff"], "existing_account": "join"}
    response = client.post(URL, headers=admin_headers, json=body)
    assert response.status_code == 201, response.json
    got = response.json
    assert got["existing_account"] == "join" and got["state"] == "initiated"
    assert got["accepted_sub"] is None and got["link"]
    shown = client.get(f"{URL}/{got['id']}", headers=admin_headers).json
    assert shown["existing_account"] == "join"


def test_other_invitations_say_null(client, admin_headers, invite_client):
    """An invitation for a new person answers existing_account null."""
    response = client.post(URL, headers=admin_headers, json={"email": "new@example.com"})
    assert response.json["existing_account"] is None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "nobody@example.com", "existing_account": "join"}, 400, "existing_account"),
        ({"mobile_number": "+4915112345678", "existing_account": "join"}, 400, "existing_account"),
        ({"email": MEMBER, "existing_account": "yes"}, 422, None),
        ({"email": MEMBER, "existing_account": True}, 422, None),
    ],
    ids=["no-account", "no-email", "other-value", "boolean"],
)
def test_join_refusals_write_nothing(app, client, admin_headers, member, body, status, field):
    """No account for the email, no email, or a value other than "join": refused."""
    before = row_counts(app)
    got = assert_json_error(client.post(URL, headers=admin_headers, json=body), status)
    if field:
        assert got["field"] == field
    else:
        assert "existing_account" in got["errors"]["json"]
    assert row_counts(app) == before


def test_without_join_the_409_names_the_account_to_user_readers(app, client, admin_headers, member):
    """The 409 stays, with the account's sub for a caller holding users:read."""
    before = row_counts(app)
    got = assert_json_error(client.post(URL, headers=admin_headers, json={"email": MEMBER}), 409)
    assert got["sub"] == member.sub
    assert "belongs to an account" in got["error_description"]
    assert row_counts(app) == before


def test_without_users_read_the_409_names_nobody(client, machine_headers, member):
    """A caller that may not read users learns only that the address has an account."""
    headers = machine_headers("invitations:read invitations:write")
    got = assert_json_error(client.post(URL, headers=headers, json={"email": MEMBER}), 409)
    assert "sub" not in got


@pytest.mark.parametrize(("roles", "named"), [(("admin",), True), (("user_invite",), False)])
def test_a_persons_409_follows_their_roles(client, person_headers, member, roles, named):
    """An admin may read users (sub shown); a user_invite may not (no sub)."""
    headers = person_headers(roles=roles)
    got = assert_json_error(client.post(URL, headers=headers, json={"email": MEMBER}), 409)
    assert ("sub" in got) is named


def test_bulk_rows_join_and_name(client, admin_headers, member):
    """Bulk: a join row is created, a plain row for the account fails naming it."""
    rows = [
        {"email": MEMBER, "existing_account": "join", "groups": ["staff"]},
        {"email": "member2@example.com", "existing_account": "join"},
    ]
    response = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 400]
    assert results[0]["invitation"]["existing_account"] == "join"
    assert results[1]["field"] == "existing_account"


def test_bulk_conflict_names_the_account(client, admin_headers, member):
    """Bulk: a row without join for the account is 409 with its sub."""
    rows = [{"email": MEMBER}]
    results = client.post(f"{URL}/bulk", headers=admin_headers, json={"invitations": rows})
    assert results.json["results"][0]["status"] == 409
    assert results.json["results"][0]["sub"] == member.sub


def test_openapi_documents_the_field(client):
    """InvitationCreate and Invitation describe existing_account (join only)."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name in ("InvitationCreate", "Invitation"):
        field = schemas[name]["properties"]["existing_account"]
        assert "join" in field["enum"] and "sign-in" in field["description"]
