"""Who may call the admin API (spec §3.6)."""

from __future__ import annotations


def test_machine_token_with_scope_creates_an_invitation(client, machine_headers, invite_client):
    """A client-credentials token with invitations:write may create an invitation."""
    response = client.post(
        "/api/v1/invitations",
        headers=machine_headers(),
        json={"email": "new@example.com", "client_id": "shop"},
    )
    assert response.status_code == 201, response.json
    assert response.json["invited_by"].startswith("client:")


def test_token_without_scope_gets_403_insufficient_scope(client, machine_headers, invite_client):
    """A token lacking invitations:write is refused with 403 and a Bearer challenge."""
    response = client.post(
        "/api/v1/invitations",
        headers=machine_headers("invitations:read"),
        json={"email": "new@example.com", "client_id": "shop"},
    )
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_person_without_role_is_refused(client, person_headers, invite_client):
    """A person's token with the scope but no admin role gets 403 insufficient_role."""
    response = client.post(
        "/api/v1/invitations",
        headers=person_headers(roles=()),
        json={"email": "new@example.com", "client_id": "shop"},
    )
    assert response.status_code == 403 and response.json["error"] == "insufficient_role"


def test_user_invite_role_may_create(client, person_headers, invite_client):
    """A person with user_invite may create invitations, recorded as the inviter."""
    response = client.post(
        "/api/v1/invitations",
        headers=person_headers(roles=("user_invite",)),
        json={"email": "new@example.com", "client_id": "shop"},
    )
    assert response.status_code == 201, response.json
    assert response.json["invited_by"].startswith("account:")


def test_missing_token_is_401_with_challenge(client):
    """No Authorization header → 401 with a Bearer challenge and a JSON error."""
    response = client.get("/api/v1/invitations/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]
