"""The UserInfo endpoint (OIDC Core §5.3) behind RFC 6750 bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from app.crypto import hash_secret
from app.models import Account, Token, utcnow
from tests.helpers import bearer, obtain_tokens, post_as, update_rows


def test_userinfo_get_returns_the_claims_of_the_granted_scopes(client, factory):
    """GET with a bearer token → sub plus profile and email claims, never cached."""
    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["sub"] == person.sub
    assert body["email"] == person.email and body["email_verified"] is True
    assert body["given_name"] == "Ada" and body["family_name"] == "Lovelace"
    assert body["name"] == "Ada Lovelace"
    assert "phone_number" not in body


def test_userinfo_post_works_like_get(client, factory):
    """POST with a bearer token answers the same claims as GET."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    got = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    posted = client.post("/userinfo", headers=bearer(tokens["access_token"]))
    assert posted.status_code == 200
    assert posted.json == got.json


def test_userinfo_releases_only_the_scopes_granted(client, factory):
    """With scope=openid alone, only sub is released."""
    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person, scope="openid")
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).json == {
        "sub": person.sub
    }


def test_userinfo_without_token_is_401_with_www_authenticate(client, factory):
    """No token → 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)."""
    for method in (client.get, client.post):
        response = method("/userinfo")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="http://localhost"'


def test_userinfo_with_unknown_token_is_401_invalid_token(client, factory):
    """A token this server never issued → 401, WWW-Authenticate names invalid_token."""
    response = client.get("/userinfo", headers=bearer("never-issued"))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_userinfo_with_revoked_token_is_401_invalid_token(client, factory):
    """A revoked access token → 401 with WWW-Authenticate containing invalid_token."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert post_as(client, rp, "/revoke", {"token": tokens["access_token"]}).status_code == 200
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    assert response.json["error"] == "invalid_token"


def test_userinfo_with_expired_token_is_401(client, factory, app):
    """An expired access token → 401 invalid_token."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    update_rows(
        app,
        Token,
        {"access_token_hash": hash_secret(tokens["access_token"])},
        access_token_expires_at=utcnow() - timedelta(seconds=1),
    )
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_userinfo_for_a_disabled_account_is_401(client, factory, app):
    """Once the account is disabled its access tokens get 401."""
    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_refresh_token_is_not_an_access_token(client, factory):
    """A refresh token presented as a bearer token → 401."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = client.get("/userinfo", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401


def test_token_without_openid_scope_is_403_insufficient_scope(client, factory):
    """An OAuth-only access token (no openid scope) → 403 insufficient_scope, no claims."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account(), scope="profile email")
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]
    assert "sub" not in response.json


def test_client_credentials_token_gets_no_userinfo(client, factory):
    """A client-credentials token (no person) is refused cleanly, not a 500."""
    rp = factory.client(grant_types=["client_credentials"], scope="profile email")
    token = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
    ).json["access_token"]
    response = client.get("/userinfo", headers=bearer(token))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_malformed_authorization_header_is_401(client, factory):
    """A non-Bearer Authorization header → 401 with a challenge."""
    response = client.get("/userinfo", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
