"""Who may vouch for an address (issue 10, item 7): marking an email or number verified
without Vestibule delivering to it needs the scope users:verify (machines) or the role
admin (people), on invitations and on users alike."""

from __future__ import annotations

import pytest

from tests.api.conftest import API_SCOPES
from tests.helpers import row_counts

INVITATIONS = "/api/v1/invitations"
USERS = "/api/v1/users"
VOUCH = {"email": "ada@example.com", "client_id": "shop", "email_verified": True}


def assert_needs_verify(response) -> None:
    """403 insufficient_scope whose description names the scope users:verify."""
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.json["error"] == "insufficient_scope"
    assert "users:verify" in response.json["error_description"]


def test_machine_without_users_verify_cannot_vouch_for_an_invitation(
    app, client, machine_headers, invite_client
):
    """email_verified: true with invitations:write only → 403 naming users:verify,
    single or bulk (that row only); nothing written."""
    headers = machine_headers()
    before = row_counts(app)
    assert_needs_verify(client.post(INVITATIONS, headers=headers, json=VOUCH))
    assert row_counts(app) == before
    bulk = client.post(
        f"{INVITATIONS}/bulk",
        headers=headers,
        json={"invitations": [VOUCH, {**VOUCH, "email": "b@example.com", "email_verified": False}]},
    )
    assert [row["status"] for row in bulk.json["results"]] == [403, 201]


def test_machine_with_users_verify_may_vouch(client, machine_headers, invite_client):
    """A client registered with users:verify: 201 and the invitation says email_verified."""
    response = client.post(
        INVITATIONS, headers=machine_headers(f"{API_SCOPES} users:verify"), json=VOUCH
    )
    assert response.status_code == 201, response.json
    assert response.json["email_verified"] is True


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("secondary_admin", 403)])
def test_only_an_admin_person_may_vouch(client, person_headers, invite_client, role, status):
    """People: the role admin may vouch; secondary_admin gets 403 insufficient_role."""
    response = client.post(INVITATIONS, headers=person_headers(roles=(role,)), json=VOUCH)
    assert response.status_code == status, response.json
    if status == 403:
        assert response.json["error"] == "insufficient_role"


def test_vouching_for_a_missing_email_is_a_400(app, client, admin_headers, invite_client):
    """email_verified without an email to vouch for: 400 naming the field."""
    before = row_counts(app)
    body = {"mobile_number": "+4915112345678", "client_id": "shop", "email_verified": True}
    response = client.post(INVITATIONS, headers=admin_headers, json=body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == "email_verified"
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("post", {"email": "new@example.com", "email_verified": True}),
        ("patch", {"email_verified": True}),
        ("patch", {"phone_number_verified": True}),
    ],
)
def test_machine_without_users_verify_cannot_verify_a_users_address(
    app, client, machine_headers, factory, method, body
):
    """POST or PATCH /users marking an address verified needs users:verify; marking it
    unverified does not."""
    person = factory.account("grace@example.com")
    headers = machine_headers()
    url = USERS if method == "post" else f"{USERS}/{person.sub}"
    before = row_counts(app)
    assert_needs_verify(getattr(client, method)(url, headers=headers, json=body))
    assert row_counts(app) == before
    unverify = client.patch(
        f"{USERS}/{person.sub}", headers=headers, json={"email_verified": False}
    )
    assert unverify.status_code == 200 and unverify.json["email_verified"] is False


def test_secondary_admin_cannot_verify_a_users_address(app, client, person_headers, factory):
    """A secondary_admin may edit a plain user but not vouch for their address (403)."""
    person = factory.account("grace@example.com")
    headers = person_headers(roles=("secondary_admin",))
    response = client.patch(f"{USERS}/{person.sub}", headers=headers, json={"email_verified": True})
    assert response.status_code == 403 and response.json["error"] == "insufficient_role"


def test_the_schema_documents_who_may_vouch(client):
    """The OpenAPI field descriptions name users:verify."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert (
        "users:verify" in schemas["InvitationCreate"]["properties"]["email_verified"]["description"]
    )
    assert "users:verify" in schemas["UserUpdate"]["properties"]["email_verified"]["description"]
