"""Token revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

import time

import pytest

from app.models import Client
from tests.helpers import (
    bearer,
    obtain_tokens,
    post_as,
    refresh,
    rfc6749_safe,
    update_rows,
)


def userinfo_status(browser, access_token: str) -> int:
    return browser.get("/userinfo", headers=bearer(access_token)).status_code


def introspect(browser, rp, token: str, **extra):
    return post_as(browser, rp, "/introspect", {"token": token, **extra})


def assert_client_error(response, status: int = 401, error: str = "invalid_client") -> None:
    """An authentication failure: status and error code, no token data."""
    assert response.status_code == status, response.data
    assert response.json["error"] == error
    assert "active" not in response.json
    assert rfc6749_safe(response.json.get("error_description", ""))


# -- revocation ----------------------------------------------------------------------------


def test_revoking_an_access_token_leaves_the_refresh_token_usable(client, factory):
    """Revoking the access token kills it alone; the refresh token still rotates."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = post_as(
        client, rp, "/revoke", {"token": tokens["access_token"], "token_type_hint": "access_token"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert userinfo_status(client, tokens["access_token"]) == 401
    renewed = refresh(client, rp, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.json
    assert userinfo_status(client, renewed.json["access_token"]) == 200


def test_revoking_a_refresh_token_kills_the_family(client, factory):
    """Revoking the refresh token also revokes its access token and descendants."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    rotated = refresh(client, rp, tokens["refresh_token"]).json
    response = post_as(client, rp, "/revoke", {"token": rotated["refresh_token"]})
    assert response.status_code == 200
    assert userinfo_status(client, rotated["access_token"]) == 401
    again = refresh(client, rp, rotated["refresh_token"])
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_revoking_with_a_wrong_hint_still_finds_the_token(client, factory):
    """token_type_hint is only a hint: a refresh token hinted as access token is revoked."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = post_as(
        client, rp, "/revoke", {"token": tokens["refresh_token"], "token_type_hint": "access_token"}
    )
    assert response.status_code == 200
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400


def test_revoking_an_unknown_token_answers_200(client, factory):
    """An unknown token is answered 200 (RFC 7009 §2.2), telling nothing."""
    rp = factory.client()
    response = post_as(client, rp, "/revoke", {"token": "never-issued"})
    assert response.status_code == 200


def test_revoking_twice_answers_200(client, factory):
    """Revoking an already revoked token is still 200."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    for _ in range(2):
        assert post_as(client, rp, "/revoke", {"token": tokens["access_token"]}).status_code == 200


def test_revocation_without_token_parameter_is_invalid_request(client, factory):
    """A revocation request without ``token`` → 400 invalid_request."""
    rp = factory.client()
    assert_client_error(post_as(client, rp, "/revoke", {}), 400, "invalid_request")


def test_a_client_cannot_revoke_another_clients_token(client, factory):
    """Revoking a token issued to another client is refused and the token keeps working."""
    rp = factory.client()
    other = factory.client(name="Other")
    tokens = obtain_tokens(client, rp, factory.account())
    response = post_as(client, other, "/revoke", {"token": tokens["access_token"]})
    assert response.status_code == 400
    assert userinfo_status(client, tokens["access_token"]) == 200


def test_public_client_revokes_its_own_token_with_client_id(client, factory):
    """A public client (auth method none) may revoke its own refresh token."""
    rp = factory.client(public=True)
    tokens = obtain_tokens(client, rp, factory.account())
    assert post_as(client, rp, "/revoke", {"token": tokens["refresh_token"]}).status_code == 200
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400


def test_basic_client_cannot_revoke_with_client_secret_post(client, factory):
    """A client_secret_basic client sending its secret in the form → 401 at /revoke."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = client.post(
        "/revoke",
        data={
            "token": tokens["access_token"],
            "client_id": rp.client_id,
            "client_secret": rp.secret,
        },
    )
    assert_client_error(response)
    assert userinfo_status(client, tokens["access_token"]) == 200


def test_confidential_client_cannot_revoke_with_client_id_only(client, factory):
    """A confidential client sending only its client_id (none) → 401 at /revoke."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    response = client.post(
        "/revoke", data={"token": tokens["refresh_token"], "client_id": rp.client_id}
    )
    assert_client_error(response)
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


# -- introspection -------------------------------------------------------------------------


def test_introspecting_an_unknown_token_is_inactive(client, factory):
    """An unknown token → exactly {"active": false}."""
    rp = factory.client()
    response = introspect(client, rp, "never-issued")
    assert response.status_code == 200
    assert response.json == {"active": False}
    assert response.headers["Cache-Control"] == "no-store"


def test_introspecting_a_valid_access_token(client, factory):
    """A live access token → active with sub, client_id, scope, exp, token_type."""
    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    body = introspect(client, rp, tokens["access_token"]).json
    assert body["active"] is True
    assert body["sub"] == person.sub
    assert body["client_id"] == rp.client_id
    assert body["scope"] == tokens["scope"]
    assert body["token_type"] == "Bearer"
    assert body["iss"] == "http://localhost"
    assert time.time() < body["exp"] <= time.time() + 3600 + 5


def test_introspecting_a_refresh_token(client, factory):
    """A live refresh token is active with token_type refresh_token (it is no bearer
    access token); once rotated it is inactive."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    body = introspect(client, rp, tokens["refresh_token"], token_type_hint="refresh_token").json
    assert body["active"] is True and body["client_id"] == rp.client_id
    assert body["token_type"] == "refresh_token"
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200
    assert introspect(client, rp, tokens["refresh_token"]).json == {"active": False}


def test_introspecting_a_revoked_token_is_inactive(client, factory):
    """A revoked access token → {"active": false}."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert post_as(client, rp, "/revoke", {"token": tokens["access_token"]}).status_code == 200
    assert introspect(client, rp, tokens["access_token"]).json == {"active": False}


def test_introspecting_a_token_of_a_disabled_account_is_inactive(client, factory, app):
    """Disabling the account makes its tokens inactive."""
    from app.models import Account

    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    assert introspect(client, rp, tokens["access_token"]).json == {"active": False}


def test_introspecting_another_clients_token_is_inactive(client, factory):
    """A client asking about a token issued to someone else learns only active=false."""
    rp = factory.client()
    other = factory.client(name="Other")
    tokens = obtain_tokens(client, rp, factory.account())
    assert introspect(client, other, tokens["access_token"]).json == {"active": False}


def test_may_introspect_client_sees_other_clients_tokens(client, factory, app):
    """A resource server flagged may_introspect gets the full answer for any token."""
    rp = factory.client()
    resource = factory.client(name="API")
    update_rows(app, Client, {"client_id": resource.client_id}, may_introspect=True)
    tokens = obtain_tokens(client, rp, factory.account())
    body = introspect(client, resource, tokens["access_token"]).json
    assert body["active"] is True and body["client_id"] == rp.client_id


def test_client_credentials_token_introspection_has_no_sub(client, factory):
    """A client-credentials token is active, names its client and has no sub."""
    rp = factory.client(grant_types=["client_credentials"], scope="profile")
    token = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
    ).json["access_token"]
    body = introspect(client, rp, token).json
    assert body["active"] is True and body["client_id"] == rp.client_id
    assert "sub" not in body


def test_public_client_cannot_introspect(client, factory):
    """A public client (auth method none) → 401 invalid_client at /introspect."""
    rp = factory.client(public=True)
    tokens = obtain_tokens(client, rp, factory.account())
    assert_client_error(introspect(client, rp, tokens["access_token"]))


@pytest.mark.parametrize("how", ["post", "none", "wrong-secret"])
def test_basic_client_must_introspect_with_its_registered_method(client, factory, how):
    """client_secret_post, bare client_id or a wrong secret → 401 at /introspect."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    data = {"token": tokens["access_token"], "client_id": rp.client_id}
    headers = {}
    if how == "post":
        data["client_secret"] = rp.secret
    elif how == "wrong-secret":
        data.pop("client_id")
        headers = type(rp)(rp.client_id, "wrong", rp.redirect_uri).basic_auth()
    assert_client_error(client.post("/introspect", data=data, headers=headers))


def test_introspection_without_client_authentication_is_401(client, factory):
    """No client credentials at all → 401 invalid_client."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert_client_error(client.post("/introspect", data={"token": tokens["access_token"]}))
