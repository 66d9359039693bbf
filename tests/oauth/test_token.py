"""The token endpoint: code redemption, client authentication, client credentials."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.crypto import hash_secret
from app.extensions import db
from app.models import Account, AuthorizationCode, Token, utcnow
from tests.helpers import (
    ISSUER,
    ClientInfo,
    bearer,
    obtain_code,
    pkce_pair,
    redeem,
    refresh,
    rfc6749_safe,
    update_rows,
)


def assert_token_error(response, status: int, error: str) -> None:
    """A JSON error with the given status and code, never cached, no tokens."""
    assert response.status_code == status, response.data
    assert response.json["error"] == error
    assert "access_token" not in response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert rfc6749_safe(response.json.get("error_description", ""))


# -- authorization codes ------------------------------------------------------------------


def test_code_redemption_issues_tokens_without_caching(client, factory):
    """A valid code gives access, refresh and ID tokens with Cache-Control: no-store."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, verifier)
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid profile email offline_access"
    assert {"access_token", "refresh_token", "id_token"} <= set(body)


def test_code_reuse_fails_and_revokes_what_the_first_redemption_issued(client, factory):
    """A second redemption → 400 invalid_grant; the first access and refresh tokens die."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    first = redeem(client, rp, code, verifier)
    assert first.status_code == 200
    access, refresh_token = first.json["access_token"], first.json["refresh_token"]
    assert client.get("/userinfo", headers=bearer(access)).status_code == 200

    second = redeem(client, rp, code, verifier)
    assert_token_error(second, 400, "invalid_grant")

    info = client.get("/userinfo", headers=bearer(access))
    assert info.status_code == 401
    assert "invalid_token" in info.headers["WWW-Authenticate"]
    assert_token_error(refresh(client, rp, refresh_token), 400, "invalid_grant")


def test_code_reuse_also_revokes_tokens_rotated_from_the_first_redemption(client, factory):
    """A replayed code revokes the whole family, including tokens from later refreshes."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    first = redeem(client, rp, code, verifier).json
    rotated = refresh(client, rp, first["refresh_token"])
    assert rotated.status_code == 200
    assert_token_error(redeem(client, rp, code, verifier), 400, "invalid_grant")
    assert client.get("/userinfo", headers=bearer(rotated.json["access_token"])).status_code == 401
    assert_token_error(refresh(client, rp, rotated.json["refresh_token"]), 400, "invalid_grant")


def test_code_reuse_revokes_tokens_in_the_database(client, factory, app):
    """After a replayed code every token row of its family is revoked."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    assert redeem(client, rp, code, verifier).status_code == 200
    assert redeem(client, rp, code, verifier).status_code == 400
    with app.app_context():
        row = db.session.scalar(
            select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_secret(code))
        )
        tokens = db.session.scalars(select(Token).where(Token.family_id == row.family_id)).all()
        assert len(tokens) == 1
        assert tokens[0].access_token_revoked_at is not None
        assert tokens[0].refresh_token_revoked_at is not None


@pytest.mark.parametrize("public", [True, False])
@pytest.mark.parametrize("bad", ["wrong_verifier", "no_verifier", "wrong_redirect_uri"])
def test_replay_that_fails_pkce_or_redirect_check_revokes_nothing(client, factory, public, bad):
    """A stranger who saw a used code cannot sign its user out: a replay with a wrong
    code_verifier (or redirect_uri) is refused and the first tokens stay valid."""
    rp = factory.client(public=public)
    code, verifier, _ = obtain_code(client, rp, factory.account())
    first = redeem(client, rp, code, verifier)
    assert first.status_code == 200
    other_verifier, _ = pkce_pair()
    replay = {
        "wrong_verifier": lambda: redeem(client, rp, code, other_verifier),
        "no_verifier": lambda: redeem(client, rp, code, None),
        "wrong_redirect_uri": lambda: redeem(
            client, rp, code, verifier, redirect_uri=rp.redirect_uri + "x"
        ),
    }[bad]()
    assert replay.status_code == 400
    assert replay.json["error"] in ("invalid_grant", "invalid_request")
    assert client.get("/userinfo", headers=bearer(first.json["access_token"])).status_code == 200
    assert refresh(client, rp, first.json["refresh_token"]).status_code == 200


def test_replay_without_client_authentication_revokes_nothing(client, factory):
    """A confidential client's used code replayed with a wrong secret is 401 and harmless."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    first = redeem(client, rp, code, verifier)
    stranger = ClientInfo(rp.client_id, "not-the-secret", rp.redirect_uri)
    assert redeem(client, stranger, code, verifier).status_code == 401
    assert client.get("/userinfo", headers=bearer(first.json["access_token"])).status_code == 200


def test_genuine_replay_of_a_public_clients_code_revokes_the_family(client, factory):
    """The public client itself (right verifier) replaying its code revokes what it got."""
    rp = factory.client(public=True)
    code, verifier, _ = obtain_code(client, rp, factory.account())
    first = redeem(client, rp, code, verifier)
    assert_token_error(redeem(client, rp, code, verifier), 400, "invalid_grant")
    assert client.get("/userinfo", headers=bearer(first.json["access_token"])).status_code == 401


def test_expired_code_is_refused(client, factory, app):
    """A code past its expiry → 400 invalid_grant."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    changed = update_rows(
        app,
        AuthorizationCode,
        {"code_hash": hash_secret(code)},
        expires_at=utcnow() - timedelta(seconds=1),
    )
    assert changed == 1
    assert_token_error(redeem(client, rp, code, verifier), 400, "invalid_grant")


def test_code_lives_at_most_sixty_seconds_and_is_stored_hashed(client, factory, app):
    """The stored code is a SHA-256 hash (never the code) and expires within 60 s."""
    rp = factory.client()
    code, _, _ = obtain_code(client, rp, factory.account())
    with app.app_context():
        rows = db.session.scalars(select(AuthorizationCode)).all()
        assert len(rows) == 1
        assert rows[0].code_hash == hash_secret(code) != code
        assert timedelta(0) < rows[0].expires_at - rows[0].issued_at <= timedelta(seconds=60)


def test_tokens_are_stored_hashed(client, factory, app):
    """Access and refresh tokens are stored only as hashes."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    body = redeem(client, rp, code, verifier).json
    with app.app_context():
        row = db.session.scalars(select(Token)).one()
        assert row.access_token_hash == hash_secret(body["access_token"])
        assert row.refresh_token_hash == hash_secret(body["refresh_token"])


def test_code_is_bound_to_its_client(client, factory):
    """Another client redeeming the code (with its own credentials) → invalid_grant."""
    rp = factory.client()
    other = factory.client(name="Other RP")
    code, verifier, _ = obtain_code(client, rp, factory.account())
    assert_token_error(redeem(client, other, code, verifier), 400, "invalid_grant")


def test_code_is_bound_to_its_redirect_uri(client, factory):
    """A redirect_uri at /token differing from the authorization request's → invalid_grant."""
    second = "https://rp.example.com/second"
    rp = factory.client(redirect_uris=["https://rp.example.com/callback", second])
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, verifier, redirect_uri=second)
    assert_token_error(response, 400, "invalid_grant")


def test_code_redemption_requires_the_redirect_uri(client, factory):
    """Omitting redirect_uri at /token when the request had one → invalid_grant."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    )
    assert_token_error(response, 400, "invalid_grant")


def test_unknown_code_is_refused(client, factory):
    """A code this server never issued → invalid_grant."""
    rp = factory.client()
    response = redeem(client, rp, "not-a-code", "v" * 43)
    assert_token_error(response, 400, "invalid_grant")


def test_missing_code_is_refused(client, factory):
    """grant_type=authorization_code without a code → invalid_request."""
    rp = factory.client()
    response = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "authorization_code", "redirect_uri": rp.redirect_uri},
    )
    assert_token_error(response, 400, "invalid_request")


def test_code_for_a_disabled_account_is_refused(client, factory, app):
    """A code whose account was disabled before redemption gives no tokens."""
    rp = factory.client()
    person = factory.account()
    code, verifier, _ = obtain_code(client, rp, person)
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    assert_token_error(redeem(client, rp, code, verifier), 400, "invalid_grant")


def test_id_token_claims(client, factory):
    """The ID token names issuer, audience, nonce, auth_time, at_hash and a kid."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    rp = factory.client()
    person = factory.account()
    code, verifier, params = obtain_code(client, rp, person)
    body = redeem(client, rp, code, verifier).json
    jwks = client.get("/jwks.json").json
    token = jwt.decode(body["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    claims = token.claims
    assert claims["iss"] == ISSUER
    assert rp.client_id in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert claims["sub"] == person.sub
    assert claims["nonce"] == params["nonce"]
    assert isinstance(claims["auth_time"], int)
    assert claims["at_hash"]
    assert claims["exp"] > claims["iat"]


def test_unsupported_grant_types_are_refused(client, factory):
    """The password and implicit grants do not exist here → unsupported_grant_type."""
    rp = factory.client()
    for grant in ("password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"):
        response = client.post(
            "/token",
            headers=rp.basic_auth(),
            data={"grant_type": grant, "username": "ada@example.com", "password": "x"},
        )
        assert_token_error(response, 400, "unsupported_grant_type")


def test_token_endpoint_refuses_get(client, factory):
    """GET /token is not a token request (405, no tokens)."""
    response = client.get("/token?grant_type=client_credentials")
    assert response.status_code == 405


# -- client authentication ---------------------------------------------------------------


def test_wrong_client_secret_is_401_invalid_client(client, factory):
    """A wrong secret (client_secret_basic) → 401 invalid_client."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    raw = base64.b64encode(f"{rp.client_id}:wrong-secret".encode()).decode()
    response = client.post(
        "/token",
        headers={"Authorization": f"Basic {raw}"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
        },
    )
    assert_token_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" in response.headers


def test_basic_client_cannot_use_client_secret_post(client, factory):
    """A client registered for client_secret_basic cannot authenticate with client_secret_post."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
            "client_id": rp.client_id,
            "client_secret": rp.secret,
        },
    )
    assert_token_error(response, 401, "invalid_client")


def test_confidential_client_cannot_authenticate_with_client_id_only(client, factory):
    """A confidential client sending just its client_id (method none) → 401 invalid_client."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
            "client_id": rp.client_id,
        },
    )
    assert_token_error(response, 401, "invalid_client")


def test_post_client_authenticates_with_client_secret_post_only(client, factory):
    """A client_secret_post client succeeds with form credentials and fails with Basic."""
    rp = factory.client(auth_method="client_secret_post")
    code, verifier, _ = obtain_code(client, rp, factory.account())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": rp.redirect_uri,
    }
    assert_token_error(
        client.post("/token", headers=rp.basic_auth(), data=data), 401, "invalid_client"
    )
    ok = client.post("/token", data={**data, "client_id": rp.client_id, "client_secret": rp.secret})
    assert ok.status_code == 200, ok.json


def test_public_client_cannot_present_a_secret(client, factory):
    """A public client sending a made-up secret via Basic is refused."""
    rp = factory.client(public=True)
    code, verifier, _ = obtain_code(client, rp, factory.account())
    raw = base64.b64encode(f"{rp.client_id}:made-up".encode()).decode()
    response = client.post(
        "/token",
        headers={"Authorization": f"Basic {raw}"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
        },
    )
    assert_token_error(response, 401, "invalid_client")


def test_unknown_client_is_401(client, factory):
    """Credentials of a client that does not exist → 401 invalid_client."""
    raw = base64.b64encode(b"nobody:nothing").decode()
    response = client.post(
        "/token",
        headers={"Authorization": f"Basic {raw}"},
        data={"grant_type": "client_credentials"},
    )
    assert_token_error(response, 401, "invalid_client")


# -- client credentials ------------------------------------------------------------------


def machine_client(factory, **kw):
    kw.setdefault("grant_types", ["client_credentials"])
    kw.setdefault("scope", "profile email")
    return factory.client(name="Machine", **kw)


def test_client_credentials_for_a_confidential_client(client, factory, app):
    """A confidential client with the grant gets an access token (no refresh, no ID token)."""
    rp = machine_client(factory)
    response = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "client_credentials", "scope": "profile"},
    )
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["scope"] == "profile"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body and "id_token" not in body
    with app.app_context():
        row = db.session.scalars(select(Token)).one()
        assert row.account_id is None
        assert row.access_token_hash == hash_secret(body["access_token"])


def test_client_credentials_default_scope_is_the_client_allowance(client, factory):
    """Without a scope parameter the client's allowed scopes are granted."""
    rp = machine_client(factory)
    response = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 200, response.json
    assert set(response.json["scope"].split()) == {"profile", "email"}


def test_client_credentials_refused_for_a_public_client(client, factory, app):
    """A public client cannot use client_credentials, even if the grant were recorded."""
    from app.models import Client

    rp = factory.client(public=True)
    update_rows(
        app,
        Client,
        {"client_id": rp.client_id},
        grant_types=["authorization_code", "client_credentials"],
    )
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": rp.client_id}
    )
    assert_token_error(response, 401, "invalid_client")


def test_client_credentials_refused_without_the_grant_type(client, factory):
    """A client not registered for client_credentials → unauthorized_client."""
    rp = factory.client()
    response = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials"}
    )
    assert_token_error(response, 400, "unauthorized_client")


def test_client_credentials_scope_outside_allowance_is_invalid(client, factory):
    """A scope the client may not have → invalid_scope."""
    rp = machine_client(factory)
    response = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "client_credentials", "scope": "profile phone"},
    )
    assert_token_error(response, 400, "invalid_scope")


@pytest.mark.parametrize("scope", ["openid", "openid profile"])
def test_client_credentials_refuses_openid(client, factory, scope):
    """openid makes no sense without a person: refused even if the client may have it."""
    rp = machine_client(factory, scope="openid profile")
    response = client.post(
        "/token", headers=rp.basic_auth(), data={"grant_type": "client_credentials", "scope": scope}
    )
    assert_token_error(response, 400, "invalid_scope")


def test_client_credentials_wrong_secret_is_401(client, factory):
    """client_credentials with a wrong secret → 401 invalid_client."""
    rp = machine_client(factory)
    raw = base64.b64encode(f"{rp.client_id}:nope".encode()).decode()
    response = client.post(
        "/token",
        headers={"Authorization": f"Basic {raw}"},
        data={"grant_type": "client_credentials"},
    )
    assert_token_error(response, 401, "invalid_client")
