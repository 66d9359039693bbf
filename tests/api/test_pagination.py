"""One pagination for every list of the admin API: ``limit`` and ``cursor`` in,
``next_cursor`` out; a cursor is opaque and belongs to the list that issued it, so one
from another list, a changed one or a made-up one is a 400 naming the cursor."""

from __future__ import annotations

import pytest

from app.accounts import groups as named
from app.accounts import service as accounts
from app.models import Group, Role
from tests.helpers import invite

API = "/api/v1"
#: Every list of the admin API (``{webhook}``: the endpoint the fixture registers).
LISTS = (
    "/users",
    "/groups",
    "/roles",
    "/groups/staff/members",
    "/roles/editor/members",
    "/clients",
    "/webhooks",
    "/webhooks/{webhook}/deliveries",
    "/outbox",
    "/invitations",
)


@pytest.fixture
def url(app, client, admin_headers, factory):
    """``url(path)``: the full URL of a list, after giving every list at least three rows."""
    with app.app_context():
        for name in ("staff", "ops", "sales"):
            named.create(Group, name, "test")
        for name in ("editor", "viewer", "auditor"):
            named.create(Role, name, "test")
    hook = {"url": "https://hr.example/hooks", "event_types": ["user.created"]}
    created = client.post(f"{API}/webhooks", headers=admin_headers, json=hook)
    assert created.status_code == 201, created.json
    for number in range(3):
        client.post(f"{API}/webhooks", headers=admin_headers, json=hook)
        factory.client(name=f"RP {number}")
        invite(app, email=f"invited{number}@example.com")
        with app.app_context():
            person = accounts.AccountInput(
                email=f"member{number}@example.com", groups=["staff"], roles=["editor"]
            )
            accounts.create(person, "test")
    return lambda path: API + path.format(webhook=created.json["id"])


def _get(client, headers, url: str, **params):
    return client.get(url, headers=headers, query_string=params)


def _first_cursor(client, headers, url: str) -> str:
    body = _get(client, headers, url, limit=1).json
    assert body["next_cursor"], body
    return body["next_cursor"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_pages_through_every_row_once(client, admin_headers, url, path):
    """Following next_cursor two rows at a time visits the rows of one big page, in order."""
    whole = _get(client, admin_headers, url(path), limit=200).json
    assert whole["next_cursor"] is None and len(whole["items"]) >= 3
    seen, cursor = [], None
    while True:
        page = _get(
            client, admin_headers, url(path), limit=2, **({"cursor": cursor} if cursor else {})
        )
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == whole["items"]


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_from_another_list_is_400(client, admin_headers, url, path):
    """A cursor issued by another list (even over the same rows, as the users and a
    group's members) is refused, never read as a place in this one."""
    other = "/groups/staff/members" if path == "/users" else "/users"
    cursor = _first_cursor(client, admin_headers, url(other))
    response = _get(client, admin_headers, url(path), cursor=cursor)
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_request" and response.json["field"] == "cursor"


@pytest.mark.parametrize("path", LISTS)
def test_a_changed_or_made_up_cursor_is_400(client, admin_headers, url, path):
    """A cursor changed by a character, an old-style one (hex of an id), or a made-up
    one is a 400, never a 500 nor silently another page."""
    cursor = _first_cursor(client, admin_headers, url(path))
    # The first character: the last one of a signature may only carry padding bits.
    changed = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    for bad in (changed, "1f", "eyJpZCI6IDF9", "not a cursor"):
        response = _get(client, admin_headers, url(path), cursor=bad)
        assert response.status_code == 400, (bad, response.json)
        assert response.json.get("field") == "cursor", (bad, response.json)


def test_an_overlong_cursor_is_422(client, admin_headers, url):
    """A cursor longer than any this server issues is refused by the schema."""
    response = _get(client, admin_headers, url("/users"), cursor="a" * 513)
    assert response.status_code == 422 and "cursor" in response.json["errors"]["query"]


def test_an_invitation_cursor_holds_to_its_sort(client, admin_headers, url):
    """The same list in another sort order is another list: its cursor is refused."""
    cursor = _first_cursor(client, admin_headers, url("/invitations"))
    response = _get(client, admin_headers, url("/invitations"), cursor=cursor, sort="expires_at")
    assert response.status_code == 400 and "sort=-created_at" in response.json["error_description"]
