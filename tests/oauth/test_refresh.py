"""Refresh tokens: rotated on every use, replay revokes the family, bound to the client."""

from __future__ import annotations

from datetime import timedelta

from app.crypto import hash_secret
from app.models import Token, utcnow
from tests.helpers import bearer, obtain_tokens, refresh, rfc6749_safe, update_rows


def assert_refused(response, error: str = "invalid_grant") -> None:
    """A 400 token error with ``error`` and no new tokens."""
    assert response.status_code == 400, response.data
    assert response.json["error"] == error
    assert "access_token" not in response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert rfc6749_safe(response.json.get("error_description", ""))


def test_refresh_rotates_the_refresh_token(client, factory):
    """Each refresh returns a new refresh token and access token; the old ones are refused."""
    rp = factory.client()
    first = obtain_tokens(client, rp, factory.account())
    second = refresh(client, rp, first["refresh_token"])
    assert second.status_code == 200, second.json
    assert second.headers["Cache-Control"] == "no-store"
    body = second.json
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert client.get("/userinfo", headers=bearer(body["access_token"])).status_code == 200
    third = refresh(client, rp, body["refresh_token"])
    assert third.status_code == 200
    assert third.json["refresh_token"] not in (first["refresh_token"], body["refresh_token"])


def test_refresh_revokes_the_previous_access_token(client, factory):
    """The access token issued with a rotated refresh token stops working."""
    rp = factory.client()
    first = obtain_tokens(client, rp, factory.account())
    assert refresh(client, rp, first["refresh_token"]).status_code == 200
    info = client.get("/userinfo", headers=bearer(first["access_token"]))
    assert info.status_code == 401


def test_replayed_refresh_token_revokes_the_family(client, factory):
    """Presenting a rotated refresh token again revokes the newest refresh and access tokens."""
    rp = factory.client()
    first = obtain_tokens(client, rp, factory.account())
    second = refresh(client, rp, first["refresh_token"]).json
    assert client.get("/userinfo", headers=bearer(second["access_token"])).status_code == 200

    assert_refused(refresh(client, rp, first["refresh_token"]))

    info = client.get("/userinfo", headers=bearer(second["access_token"]))
    assert info.status_code == 401
    assert "invalid_token" in info.headers["WWW-Authenticate"]
    assert_refused(refresh(client, rp, second["refresh_token"]))


def test_family_revocation_spares_other_grants(client, factory):
    """A replay revokes only its own family; another sign-in's tokens keep working."""
    rp = factory.client()
    person = factory.account()
    mine = obtain_tokens(client, rp, person)
    other = obtain_tokens(client, rp, person)
    assert refresh(client, rp, mine["refresh_token"]).status_code == 200
    assert_refused(refresh(client, rp, mine["refresh_token"]))
    assert client.get("/userinfo", headers=bearer(other["access_token"])).status_code == 200
    assert refresh(client, rp, other["refresh_token"]).status_code == 200


def test_refresh_token_of_another_client_is_refused(client, factory):
    """A refresh token presented by a different client → invalid_grant."""
    rp = factory.client()
    thief = factory.client(name="Thief")
    tokens = obtain_tokens(client, rp, factory.account())
    assert_refused(refresh(client, thief, tokens["refresh_token"]))


def test_access_token_is_not_a_refresh_token(client, factory):
    """An access token presented as a refresh token → invalid_grant."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert_refused(refresh(client, rp, tokens["access_token"]))


def test_unknown_refresh_token_is_refused(client, factory):
    """A refresh token this server never issued → invalid_grant."""
    rp = factory.client()
    assert_refused(refresh(client, rp, "never-issued"))


def test_expired_refresh_token_is_refused(client, factory, app):
    """A refresh token past its lifetime → invalid_grant."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    update_rows(
        app,
        Token,
        {"refresh_token_hash": hash_secret(tokens["refresh_token"])},
        refresh_token_expires_at=utcnow() - timedelta(seconds=1),
    )
    assert_refused(refresh(client, rp, tokens["refresh_token"]))


def test_refresh_may_narrow_the_scope(client, factory):
    """Asking for fewer scopes than granted is allowed and reflected in the response."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = refresh(client, rp, tokens["refresh_token"], scope="openid email")
    assert response.status_code == 200, response.json
    assert set(response.json["scope"].split()) == {"openid", "email"}
    info = client.get("/userinfo", headers=bearer(response.json["access_token"])).json
    assert "email" in info and "given_name" not in info


def test_refresh_may_not_widen_the_scope(client, factory):
    """Asking for a scope not originally granted (even one the client may have) → invalid_scope."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert "phone" not in tokens["scope"].split()
    assert_refused(
        refresh(client, rp, tokens["refresh_token"], scope="openid phone"), "invalid_scope"
    )


def test_refused_widening_leaves_the_refresh_token_usable(client, factory):
    """After a refused widening, the refresh token still works for the granted scope."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert refresh(client, rp, tokens["refresh_token"], scope="phone").status_code == 400
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_public_client_refreshes_with_client_id(client, factory):
    """A public client rotates its refresh token authenticating with client_id only."""
    rp = factory.client(public=True)
    tokens = obtain_tokens(client, rp, factory.account())
    response = refresh(client, rp, tokens["refresh_token"])
    assert response.status_code == 200, response.json
    assert response.json["refresh_token"] != tokens["refresh_token"]


def test_refresh_for_a_disabled_account_is_refused(client, factory, app):
    """Once the account is disabled, its refresh tokens stop working."""
    from app.models import Account

    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    assert_refused(refresh(client, rp, tokens["refresh_token"]))


def test_client_without_refresh_grant_gets_no_refresh_token(client, factory):
    """A client not registered for refresh_token gets no refresh token from the code."""
    rp = factory.client(grant_types=["authorization_code"])
    tokens = obtain_tokens(client, rp, factory.account())
    assert "refresh_token" not in tokens
