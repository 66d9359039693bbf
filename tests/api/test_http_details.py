"""HTTP details of the admin API: OPTIONS lists a route's own methods, operations
whose body is required refuse a missing one, ids that are not ids are a JSON 404."""

from __future__ import annotations

import pytest

from tests.helpers import invite


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/invitations/bulk", {"POST", "OPTIONS"}),
        ("/api/v1/invitations/stats", {"GET", "HEAD", "OPTIONS"}),
        ("/api/v1/invitations", {"GET", "HEAD", "POST", "OPTIONS"}),
    ],
)
def test_options_lists_only_the_routes_own_methods(client, path, allowed):
    """bulk and stats are not mistaken for an invitation id (GET/PATCH)."""
    answer = client.open(path, method="OPTIONS")
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_an_id_that_is_no_id_is_a_json_404(client, admin_headers):
    """A path segment that cannot be an invitation id never reaches the view."""
    answer = client.get("/api/v1/invitations/not-an-id", headers=admin_headers)
    assert answer.status_code == 404 and answer.json["error"] == "not_found"


def test_missing_body_is_refused_where_the_spec_requires_one(
    app, client, admin_headers, factory, invite_client
):
    """PATCH of a user or an invitation and a password link without any body are 400
    (the spec marks the body required); an empty JSON object is a body."""
    person = factory.account()
    invitation = invite(app, email="bob@example.com", client_id="shop", notify=False)
    for method, path in [
        ("PATCH", f"/api/v1/users/{person.sub}"),
        ("PATCH", f"/api/v1/invitations/{invitation.id}"),
        ("POST", f"/api/v1/users/{person.sub}/password-link"),
    ]:
        answer = client.open(path, method=method, headers=admin_headers)
        assert answer.status_code == 400, (path, answer.json)
        assert answer.json["error_description"] == "This operation needs a JSON body."
    link = client.post(
        f"/api/v1/users/{person.sub}/password-link",
        json={"notify": False},
        headers=admin_headers,
    )
    assert link.status_code == 201, link.json
    assert (
        client.patch(f"/api/v1/users/{person.sub}", json={}, headers=admin_headers).status_code
        == 200
    )


def test_a_missing_body_is_checked_after_the_token(client):
    """Without a token the answer is still 401, whatever the body."""
    assert client.patch("/api/v1/users/abc").status_code == 401
