"""Admin API: groups and roles, and their members (spec §3.3, §3.6)."""

from __future__ import annotations

import pytest

from tests.helpers import row_counts


def create(client, headers, kind: str, name: str) -> dict:
    """POST /groups or /roles and return the created row."""
    response = client.post(f"/api/v1/{kind}", headers=headers, json={"name": name})
    assert response.status_code == 201, response.json
    return response.json


def new_user(client, headers, email: str) -> str:
    """Create an account through the API; returns its sub."""
    response = client.post("/api/v1/users", headers=headers, json={"email": email})
    assert response.status_code == 201, response.json
    return response.json["sub"]


def member_emails(client, headers, kind: str, name: str) -> list[str]:
    response = client.get(f"/api/v1/{kind}/{name}/members", headers=headers)
    assert response.status_code == 200, response.json
    return [user["email"] for user in response.json["items"]]


@pytest.mark.parametrize("kind", ["groups", "roles"])
def test_create_get_and_list(client, admin_headers, kind):
    """A created group or role can be fetched by name and appears in the list."""
    created = create(client, admin_headers, kind, "team-a.ops:eu_1")
    assert created["name"] == "team-a.ops:eu_1" and created["created_at"]
    got = client.get(f"/api/v1/{kind}/team-a.ops:eu_1", headers=admin_headers)
    assert got.status_code == 200 and got.json == created
    listed = client.get(f"/api/v1/{kind}", headers=admin_headers)
    assert listed.json == {"items": [created], "next_cursor": None}


@pytest.mark.parametrize("kind", ["groups", "roles"])
def test_duplicate_name_is_409_and_writes_nothing(app, client, admin_headers, kind):
    """The same name twice → 409 conflict, one row."""
    create(client, admin_headers, kind, "staff")
    before = row_counts(app)
    response = client.post(f"/api/v1/{kind}", headers=admin_headers, json={"name": "staff"})
    assert response.status_code == 409 and response.json["error"] == "conflict"
    assert row_counts(app) == before


@pytest.mark.parametrize("kind", ["groups", "roles"])
@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 65}, {"name": "has space"}, {"name": "ünï"}, {"name": 7}],
)
def test_invalid_name_is_refused_and_writes_nothing(app, client, admin_headers, kind, body):
    """Missing, empty, long names or names outside letters/digits/-_.: → 422."""
    before = row_counts(app)
    response = client.post(f"/api/v1/{kind}", headers=admin_headers, json=body)
    assert response.status_code == 422, response.json
    assert row_counts(app) == before


def test_name_with_a_trailing_newline_is_400(app, client, admin_headers):
    """A name the documented pattern's '$' lets through is still refused by the service."""
    before = row_counts(app)
    response = client.post("/api/v1/groups", headers=admin_headers, json={"name": "staff\n"})
    assert response.status_code == 400 and response.json["field"] == "name"
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/groups/nope"),
        ("patch", "/api/v1/groups/nope"),
        ("get", "/api/v1/groups/nope/members"),
        ("get", "/api/v1/roles/nope"),
        ("get", "/api/v1/roles/nope/members"),
    ],
)
def test_unknown_name_is_404(client, admin_headers, method, path):
    """Every route naming a group or role answers 404 for an unknown name."""
    response = getattr(client, method)(path, headers=admin_headers, json={"name": "new"})
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_rename_keeps_members(client, admin_headers):
    """PATCH renames the group; its members follow and the old name is gone."""
    create(client, admin_headers, "groups", "staff")
    sub = new_user(client, admin_headers, "ada@example.com")
    client.put(f"/api/v1/groups/staff/members/{sub}", headers=admin_headers)
    response = client.patch("/api/v1/groups/staff", headers=admin_headers, json={"name": "crew"})
    assert response.status_code == 200 and response.json["name"] == "crew"
    assert client.get("/api/v1/groups/staff", headers=admin_headers).status_code == 404
    assert member_emails(client, admin_headers, "groups", "crew") == ["ada@example.com"]
    user = client.get(f"/api/v1/users/{sub}", headers=admin_headers).json
    assert user["groups"] == ["crew"]


def test_rename_to_a_taken_name_is_409(client, admin_headers):
    """Renaming onto another group's name → 409, both unchanged."""
    create(client, admin_headers, "groups", "staff")
    create(client, admin_headers, "groups", "crew")
    response = client.patch("/api/v1/groups/staff", headers=admin_headers, json={"name": "crew"})
    assert response.status_code == 409
    names = [g["name"] for g in client.get("/api/v1/groups", headers=admin_headers).json["items"]]
    assert names == ["staff", "crew"]


def test_roles_cannot_be_renamed(client, admin_headers):
    """Role names carry powers (§3.6), so the API offers no rename for them."""
    create(client, admin_headers, "roles", "admin")
    response = client.patch("/api/v1/roles/admin", headers=admin_headers, json={"name": "x"})
    assert response.status_code == 405


@pytest.mark.parametrize("kind", ["groups", "roles"])
def test_add_and_remove_members(client, admin_headers, kind):
    """PUT adds (twice is harmless), DELETE removes (twice is harmless); both answer 204."""
    create(client, admin_headers, kind, "staff")
    ada = new_user(client, admin_headers, "ada@example.com")
    new_user(client, admin_headers, "grace@example.com")
    for _ in range(2):
        response = client.put(f"/api/v1/{kind}/staff/members/{ada}", headers=admin_headers)
        assert response.status_code == 204 and response.data == b""
    assert member_emails(client, admin_headers, kind, "staff") == ["ada@example.com"]
    assert client.get(f"/api/v1/users/{ada}", headers=admin_headers).json[kind] == ["staff"]
    for _ in range(2):
        response = client.delete(f"/api/v1/{kind}/staff/members/{ada}", headers=admin_headers)
        assert response.status_code == 204
    assert member_emails(client, admin_headers, kind, "staff") == []


@pytest.mark.parametrize("kind", ["groups", "roles"])
@pytest.mark.parametrize("method", ["put", "delete"])
def test_membership_with_unknown_names_is_404_and_writes_nothing(
    app, client, admin_headers, kind, method
):
    """An unknown group, role or sub → 404, no membership written."""
    create(client, admin_headers, kind, "staff")
    sub = new_user(client, admin_headers, "ada@example.com")
    before = row_counts(app)
    for path in (f"/api/v1/{kind}/nope/members/{sub}", f"/api/v1/{kind}/staff/members/nope"):
        response = getattr(client, method)(path, headers=admin_headers)
        assert response.status_code == 404 and response.json["error"] == "not_found"
    assert row_counts(app) == before


def test_members_pages_neither_repeat_nor_skip(client, admin_headers):
    """Following next_cursor through a group's members visits each exactly once."""
    create(client, admin_headers, "groups", "staff")
    expected = []
    for i in range(5):
        sub = new_user(client, admin_headers, f"u{i}@example.com")
        if i != 2:
            client.put(f"/api/v1/groups/staff/members/{sub}", headers=admin_headers)
            expected.append(f"u{i}@example.com")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            "/api/v1/groups/staff/members", headers=admin_headers, query_string=params
        )
        assert page.status_code == 200 and len(page.json["items"]) <= 2
        seen += [user["email"] for user in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_group_list_pages(client, admin_headers):
    """The group list pages by cursor without repeats or gaps."""
    names = [f"g{i}" for i in range(5)]
    for name in names:
        create(client, admin_headers, "groups", name)
    first = client.get("/api/v1/groups", headers=admin_headers, query_string={"limit": 3}).json
    second = client.get(
        "/api/v1/groups",
        headers=admin_headers,
        query_string={"limit": 3, "cursor": first["next_cursor"]},
    ).json
    assert [g["name"] for g in first["items"] + second["items"]] == names
    assert second["next_cursor"] is None


@pytest.mark.parametrize("name", [".", ".."])
def test_names_of_only_dots_are_400(app, client, admin_headers, name):
    """``.`` and ``..`` would not survive as a path segment of /groups/<name>."""
    before = row_counts(app)
    response = client.post("/api/v1/groups", headers=admin_headers, json={"name": name})
    assert response.status_code == 400, response.json
    assert row_counts(app) == before
