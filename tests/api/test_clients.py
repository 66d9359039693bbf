"""Admin API: clients (spec §3.3). The secret is shown once, stored hashed."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from app.clients import service
from app.extensions import db
from app.models import Client
from tests.helpers import row_counts

CLIENTS = "/api/v1/clients"
CALLBACK = "https://shop.example.com/callback"


def register(client, headers, **body) -> dict:
    """POST /clients and return the answer (with its one-time secret)."""
    body.setdefault("name", "Shop")
    body.setdefault("redirect_uris", [CALLBACK])
    response = client.post(CLIENTS, headers=headers, json=body)
    assert response.status_code == 201, response.json
    return response.json


def client_credentials(client, client_id: str, secret: str):
    """Ask /token for a client-credentials token with these credentials."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/token",
        headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "client_credentials"},
    )


def test_create_shows_the_secret_once(app, client, admin_headers):
    """201 carries client_secret; GET and the list never do, and only its hash is stored."""
    created = register(
        client,
        admin_headers,
        name="Shop",
        client_id="shop",
        post_logout_redirect_uris=["https://shop.example.com/bye"],
        initiate_login_uri="https://shop.example.com/login",
        scope="openid email email",
        first_party=True,
    )
    secret = created.pop("client_secret")
    assert secret and len(secret) >= 32
    assert created["client_id"] == "shop" and created["public"] is False
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["scope"] == "openid email" and created["first_party"] is True
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["initiate_login_uri"] == "https://shop.example.com/login"
    assert created["secret_rotated_at"] is None and created["require_pkce"] is True
    assert created["signup_mode"] is None
    got = client.get(f"{CLIENTS}/shop", headers=admin_headers)
    assert got.status_code == 200 and got.json == created
    listed = client.get(CLIENTS, headers=admin_headers).get_data(as_text=True)
    assert secret not in listed and '"client_secret"' not in listed and "hash" not in listed
    with app.app_context():
        stored = db.session.scalar(
            select(Client.client_secret_hash).where(Client.client_id == "shop")
        )
        assert stored and stored != secret


def test_created_secret_authenticates_at_the_token_endpoint(client, admin_headers):
    """A client made through the API can obtain client-credentials tokens with its secret."""
    created = register(
        client,
        admin_headers,
        grant_types=["client_credentials"],
        scope="users:read",
        redirect_uris=[],
    )
    response = client_credentials(client, created["client_id"], created["client_secret"])
    assert response.status_code == 200, response.json


def test_public_client_has_no_secret(client, admin_headers):
    """public=true → auth method none and client_secret null."""
    created = register(client, admin_headers, public=True)
    assert created["client_secret"] is None and created["public"] is True
    assert created["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"redirect_uris": ["not a uri"]}, None),
        ({"redirect_uris": ["https://shop.example.com/cb#frag"]}, None),
        ({"redirect_uris": ["https://[::1/cb"]}, None),
        ({"post_logout_redirect_uris": ["ftp://shop.example.com/"]}, None),
        ({"initiate_login_uri": "/relative/login"}, None),
        ({"scope": "openid superpowers"}, "scope"),
        ({"public": True, "grant_types": ["client_credentials"]}, None),
        ({"public": True, "require_pkce": False}, None),
    ],
)
def test_invalid_settings_are_400_and_write_nothing(app, client, admin_headers, body, field):
    """Bad URIs, scopes the server does not know, impossible combinations → 400."""
    before = row_counts(app)
    response = client.post(CLIENTS, headers=admin_headers, json={"name": "Shop", **body})
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_request"
    if field:
        assert response.json["field"] == field
    assert row_counts(app) == before


def test_plain_http_needs_insecure_transport(app, client, admin_headers, monkeypatch):
    """With AUTHLIB_INSECURE_TRANSPORT off, http is refused except for loopback hosts."""
    monkeypatch.setitem(app.config, "AUTHLIB_INSECURE_TRANSPORT", False)
    refused = client.post(
        CLIENTS,
        headers=admin_headers,
        json={"name": "Shop", "redirect_uris": ["http://shop.example.com/cb"]},
    )
    assert refused.status_code == 400 and "loopback" in refused.json["error_description"]
    register(client, admin_headers, redirect_uris=["http://127.0.0.1:8000/cb"])


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 129},
        {"name": "Shop", "grant_types": ["password"]},
        {"name": "Shop", "grant_types": []},
        {"name": "Shop", "token_endpoint_auth_method": "private_key_jwt"},
        {"name": "Shop", "public": True, "token_endpoint_auth_method": "client_secret_post"},
        {"name": "Shop", "token_endpoint_auth_method": "none", "public": False},
        {"name": "Shop", "client_id": "has:colon"},
        {"name": "Shop", "redirect_uris": "https://shop.example.com/cb"},
        {"name": "Shop", "client_secret": "chosen"},
        {"name": "Shop", "first_party": "yes"},
        {"name": "Shop", "signup_mode": "invite_only"},
        {"name": "Shop", "signup_mode": "Public"},
        {"name": "Shop", "signup_mode": ""},
        {"name": "Shop", "signup_mode": True},
    ],
)
def test_malformed_create_is_422_and_writes_nothing(app, client, admin_headers, body):
    """Missing or long names, unknown grants or methods, contradictions, wrong types,
    unknown fields (a caller cannot choose the secret) → 422."""
    before = row_counts(app)
    response = client.post(CLIENTS, headers=admin_headers, json=body)
    assert response.status_code == 422, response.json
    assert row_counts(app) == before


def test_taken_client_id_is_409(app, client, admin_headers):
    """A client_id already registered → 409, nothing written."""
    register(client, admin_headers, client_id="shop")
    before = row_counts(app)
    response = client.post(
        CLIENTS, headers=admin_headers, json={"name": "Other", "client_id": "shop"}
    )
    assert response.status_code == 409 and response.json["field"] == "client_id"
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{CLIENTS}/nope"),
        ("patch", f"{CLIENTS}/nope"),
        ("post", f"{CLIENTS}/nope/rotate-secret"),
    ],
)
def test_unknown_client_is_404(client, admin_headers, method, path):
    """Every per-client route answers 404 not_found for an unknown client_id."""
    response = getattr(client, method)(path, headers=admin_headers, json={})
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_patch_changes_the_given_settings(client, admin_headers):
    """URIs, name, scope, first_party, require_pkce change; grant types and secret stay."""
    created = register(client, admin_headers, client_id="shop", initiate_login_uri=CALLBACK)
    response = client.patch(
        f"{CLIENTS}/shop",
        headers=admin_headers,
        json={
            "name": "Shop 2",
            "redirect_uris": ["https://shop.example.com/cb2", "http://localhost:9000/cb"],
            "post_logout_redirect_uris": ["https://shop.example.com/bye"],
            "initiate_login_uri": None,
            "scope": "openid profile",
            "first_party": True,
            "require_pkce": False,
        },
    )
    assert response.status_code == 200, response.json
    got = response.json
    assert got["name"] == "Shop 2" and got["initiate_login_uri"] is None
    assert got["redirect_uris"] == ["https://shop.example.com/cb2", "http://localhost:9000/cb"]
    assert got["post_logout_redirect_uris"] == ["https://shop.example.com/bye"]
    assert got["scope"] == "openid profile" and got["first_party"] is True
    assert got["require_pkce"] is False and got["grant_types"] == created["grant_types"]
    assert "client_secret" not in got
    assert client_credentials(client, "shop", created["client_secret"]).status_code != 401


@pytest.mark.parametrize(
    "body",
    [
        {"redirect_uris": ["https://shop.example.com/cb", "javascript:alert(1)"]},
        {"scope": "openid root"},
        {"name": "Fine", "initiate_login_uri": "not a uri"},
    ],
)
def test_invalid_patch_changes_nothing(client, admin_headers, body):
    """One bad value → 400 and none of the other values in the body are applied."""
    created = register(client, admin_headers, client_id="shop")
    created.pop("client_secret")
    response = client.patch(f"{CLIENTS}/shop", headers=admin_headers, json=body)
    assert response.status_code == 400, response.json
    assert client.get(f"{CLIENTS}/shop", headers=admin_headers).json == created


def test_public_client_cannot_drop_pkce(client, admin_headers):
    """require_pkce=false on a public client → 400."""
    register(client, admin_headers, client_id="spa", public=True)
    response = client.patch(f"{CLIENTS}/spa", headers=admin_headers, json={"require_pkce": False})
    assert response.status_code == 400 and response.json["field"] == "require_pkce"


def test_signup_mode_is_set_read_and_cleared(app, client, admin_headers):
    """signup_mode is stored on create, shown by GET and the list, changed by PATCH, and
    null makes the client follow the global setting again (spec §3.5)."""
    created = register(client, admin_headers, client_id="shop", signup_mode="restricted")
    assert created["signup_mode"] == "restricted"
    assert client.get(f"{CLIENTS}/shop", headers=admin_headers).json["signup_mode"] == "restricted"
    listed = client.get(CLIENTS, headers=admin_headers).json["items"]
    assert [c["signup_mode"] for c in listed if c["client_id"] == "shop"] == ["restricted"]
    patch = client.patch(f"{CLIENTS}/shop", headers=admin_headers, json={"signup_mode": "closed"})
    assert patch.status_code == 200 and patch.json["signup_mode"] == "closed"
    cleared = client.patch(f"{CLIENTS}/shop", headers=admin_headers, json={"signup_mode": None})
    assert cleared.status_code == 200 and cleared.json["signup_mode"] is None
    with app.app_context():
        stored = db.session.scalar(select(Client.signup_mode).where(Client.client_id == "shop"))
        assert stored is None


@pytest.mark.parametrize("mode", ["invite_only", "", "CLOSED", 3])
def test_bad_signup_mode_patch_is_422_and_changes_nothing(client, admin_headers, mode):
    """A signup_mode outside public, restricted, closed and null → 422, nothing applied."""
    created = register(client, admin_headers, client_id="shop", signup_mode="public")
    created.pop("client_secret")
    response = client.patch(
        f"{CLIENTS}/shop", headers=admin_headers, json={"name": "Renamed", "signup_mode": mode}
    )
    assert response.status_code == 422, response.json
    assert client.get(f"{CLIENTS}/shop", headers=admin_headers).json == created


def test_service_refuses_unknown_signup_mode(app):
    """The service itself refuses an unknown signup_mode on create and update (400, field
    signup_mode), whatever surface calls it, and writes nothing."""
    with app.app_context():
        with pytest.raises(service.ClientError) as refused:
            service.create_client("Shop", [CALLBACK], client_id="shop", signup_mode="open")
        assert refused.value.status == 400 and refused.value.extra["field"] == "signup_mode"
        assert service.find_client("shop") is None
        service.create_client("Shop", [CALLBACK], client_id="shop")
        with pytest.raises(service.ClientError, match="signup_mode"):
            service.update_client("shop", {"signup_mode": "open"})
        db.session.rollback()
        assert service.get_client("shop").signup_mode is None


@pytest.mark.parametrize(
    "body", [{"grant_types": ["client_credentials"]}, {"client_id": "x"}, {"public": True}]
)
def test_patch_refuses_settings_it_cannot_change(client, admin_headers, body):
    """Grant types, client_id and public-ness are not editable → 422."""
    register(client, admin_headers, client_id="shop")
    response = client.patch(f"{CLIENTS}/shop", headers=admin_headers, json=body)
    assert response.status_code == 422


def test_rotate_secret_replaces_the_old_one(client, admin_headers):
    """The new secret is shown once and works; the old one stops working at once."""
    created = register(
        client,
        admin_headers,
        client_id="svc",
        grant_types=["client_credentials"],
        scope="users:read",
    )
    response = client.post(f"{CLIENTS}/svc/rotate-secret", headers=admin_headers)
    assert response.status_code == 200, response.json
    new_secret = response.json["client_secret"]
    assert new_secret and new_secret != created["client_secret"]
    assert response.json["secret_rotated_at"] is not None
    assert client_credentials(client, "svc", created["client_secret"]).status_code == 401
    assert client_credentials(client, "svc", new_secret).status_code == 200
    assert "client_secret" not in client.get(f"{CLIENTS}/svc", headers=admin_headers).json


def test_public_client_has_no_secret_to_rotate(client, admin_headers):
    """Rotating a public client's secret → 409."""
    register(client, admin_headers, client_id="spa", public=True)
    response = client.post(f"{CLIENTS}/spa/rotate-secret", headers=admin_headers)
    assert response.status_code == 409 and response.json["error"] == "conflict"


def test_client_list_pages(client, admin_headers):
    """The client list pages by cursor without repeats or gaps (the token's own client first)."""
    for i in range(4):
        register(client, admin_headers, client_id=f"c{i}")
    first = client.get(CLIENTS, headers=admin_headers, query_string={"limit": 3}).json
    rest = client.get(
        CLIENTS, headers=admin_headers, query_string={"limit": 3, "cursor": first["next_cursor"]}
    ).json
    ids = [c["client_id"] for c in first["items"] + rest["items"]]
    assert ids[1:] == ["c0", "c1", "c2", "c3"] and len(set(ids)) == 5
    assert rest["next_cursor"] is None
