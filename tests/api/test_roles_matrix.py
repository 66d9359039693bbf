"""Who may call the users, groups, roles and clients routes (spec §3.6): scopes for
machines, roles for people, and nobody grants more than they hold."""

from __future__ import annotations

import pytest

from app.api.auth import ACTION_SCOPES
from tests.api.conftest import API_SCOPES
from tests.helpers import row_counts

#: (method, path, action) of every route of this part of the API.
ROUTES = [
    ("get", "/api/v1/users", "users.read"),
    ("post", "/api/v1/users", "users.write"),
    ("get", "/api/v1/users/some-sub", "users.read"),
    ("patch", "/api/v1/users/some-sub", "users.write"),
    ("delete", "/api/v1/users/some-sub", "users.write"),
    ("post", "/api/v1/users/some-sub/disable", "users.write"),
    ("post", "/api/v1/users/some-sub/password-link", "users.write"),
    ("post", "/api/v1/users/some-sub/enable", "users.write"),
    ("get", "/api/v1/users/some-sub/factors", "users.read"),
    ("delete", "/api/v1/users/some-sub/factors/totp", "users.write"),
    ("delete", "/api/v1/users/some-sub/factors/passkeys", "users.write"),
    ("get", "/api/v1/groups", "users.read"),
    ("post", "/api/v1/groups", "users.write"),
    ("get", "/api/v1/groups/staff", "users.read"),
    ("patch", "/api/v1/groups/staff", "users.write"),
    ("get", "/api/v1/groups/staff/members", "users.read"),
    ("put", "/api/v1/groups/staff/members/some-sub", "users.write"),
    ("delete", "/api/v1/groups/staff/members/some-sub", "users.write"),
    ("get", "/api/v1/roles", "users.read"),
    ("post", "/api/v1/roles", "users.write"),
    ("get", "/api/v1/roles/staff", "users.read"),
    ("get", "/api/v1/roles/staff/members", "users.read"),
    ("put", "/api/v1/roles/staff/members/some-sub", "users.write"),
    ("delete", "/api/v1/roles/staff/members/some-sub", "users.write"),
    ("get", "/api/v1/clients", "clients.read"),
    ("post", "/api/v1/clients", "clients.write"),
    ("get", "/api/v1/clients/shop", "clients.read"),
    ("patch", "/api/v1/clients/shop", "clients.write"),
    ("post", "/api/v1/clients/shop/rotate-secret", "clients.write"),
]

#: role -> the route families its holders may use.
ALLOWED = {
    "admin": {"users", "clients"},
    "secondary_admin": {"users"},
    "user_invite": set(),
    "no_role": set(),
}


def call(client, method: str, path: str, headers: dict | None = None):
    """One request with an empty JSON body where the method takes one."""
    kwargs = {"json": {}} if method in ("post", "patch") else {}
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


def test_every_route_of_the_spec_is_in_the_matrix(client):
    """The OpenAPI paths of users, groups, roles and clients are exactly ROUTES."""
    spec = client.get("/api/v1/openapi.json").json
    documented = {
        (method, path)
        for path, item in spec["paths"].items()
        if path.split("/")[3] in ("users", "groups", "roles", "clients")
        for method in item
        if method != "parameters"
    }
    tested = {
        (
            method,
            path.replace("some-sub", "{sub}")
            .replace("staff", "{name}")
            .replace("shop", "{client_id}"),
        )
        for method, path, _ in ROUTES
    }
    assert documented == tested


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_people_need_a_role_that_allows_the_action(client, person_headers, role):
    """admin may do everything, secondary_admin all but clients, user_invite and people
    without a role nothing here: 403 insufficient_role."""
    headers = person_headers(roles=() if role == "no_role" else (role,))
    wrong = []
    for method, path, action in ROUTES:
        response = call(client, method, path, headers)
        family = action.split(".")[0]
        if family in ALLOWED[role]:
            if response.status_code in (401, 403):
                wrong.append((method, path, response.status_code))
        elif response.status_code != 403 or response.json["error"] != "insufficient_role":
            wrong.append((method, path, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("action", sorted({action for _, _, action in ROUTES}))
def test_machines_need_the_actions_scope(client, machine_headers, action):
    """A client-credentials token with the action's scope passes; one with every other
    API scope gets 403 insufficient_scope with a Bearer challenge."""
    scope = ACTION_SCOPES[action]
    allowed = machine_headers(scope)
    others = machine_headers(" ".join(s for s in API_SCOPES.split() if s != scope))
    for method, path, route_action in ROUTES:
        if route_action != action:
            continue
        assert call(client, method, path, allowed).status_code not in (401, 403), (method, path)
        refused = call(client, method, path, others)
        assert refused.status_code == 403, (method, path)
        assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


def test_no_token_is_401_everywhere(client):
    """Without a bearer token every route answers 401 with a Bearer challenge."""
    for method, path, _ in ROUTES:
        response = call(client, method, path)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["error"]


# -- nobody grants more than they hold ---------------------------------------------------


@pytest.fixture
def people(client, admin_headers):
    """The roles of §3.6 and two accounts: a plain user and an admin (subs)."""
    for role in ("admin", "secondary_admin", "user_invite"):
        assert (
            client.post("/api/v1/roles", headers=admin_headers, json={"name": role}).status_code
            == 201
        )
    plain = client.post("/api/v1/users", headers=admin_headers, json={"email": "plain@example.com"})
    boss = client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={"email": "top@example.com", "roles": ["admin"]},
    )
    return {"plain": plain.json["sub"], "admin": boss.json["sub"]}


def test_secondary_admin_cannot_make_admins(app, client, person_headers, people):
    """Granting admin by create, PATCH or role membership → 403, nothing written."""
    headers = person_headers(roles=("secondary_admin",))
    before = row_counts(app)
    attempts = [
        client.post(
            "/api/v1/users", headers=headers, json={"email": "new@example.com", "roles": ["admin"]}
        ),
        client.patch(
            f"/api/v1/users/{people['plain']}", headers=headers, json={"roles": ["admin"]}
        ),
        client.put(f"/api/v1/roles/admin/members/{people['plain']}", headers=headers),
    ]
    assert [(r.status_code, r.json["error"]) for r in attempts] == [(403, "insufficient_role")] * 3
    assert row_counts(app) == before


def test_secondary_admin_cannot_act_on_admins(app, client, person_headers, people):
    """Taking admin away from, or disabling, an admin → 403, nothing written."""
    headers = person_headers(roles=("secondary_admin",))
    before = row_counts(app)
    attempts = [
        client.patch(f"/api/v1/users/{people['admin']}", headers=headers, json={"roles": []}),
        client.delete(f"/api/v1/roles/admin/members/{people['admin']}", headers=headers),
        client.post(f"/api/v1/users/{people['admin']}/disable", headers=headers),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert row_counts(app) == before


def test_secondary_admin_manages_lesser_roles(client, person_headers, people):
    """Granting user_invite, editing and disabling a plain user are within its powers."""
    headers = person_headers(roles=("secondary_admin",))
    sub = people["plain"]
    assert (
        client.put(f"/api/v1/roles/user_invite/members/{sub}", headers=headers).status_code == 204
    )
    patched = client.patch(f"/api/v1/users/{sub}", headers=headers, json={"given_name": "P"})
    assert patched.status_code == 200 and patched.json["roles"] == ["user_invite"]
    assert client.post(f"/api/v1/users/{sub}/disable", headers=headers).status_code == 200


def test_admin_may_grant_admin(client, person_headers, people):
    """An admin may make another admin."""
    headers = person_headers(roles=("admin",))
    response = client.put(f"/api/v1/roles/admin/members/{people['plain']}", headers=headers)
    assert response.status_code == 204
