"""Discovery documents (OIDC Discovery, RFC 8414), the JWKS and key rotation."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from app.oauth import keys
from tests.helpers import ISSUER, obtain_tokens

METADATA_PATHS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_metadata_documents(client, path):
    """Both discovery documents name this issuer, its endpoints and its strict choices."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    meta = response.json
    assert meta["issuer"] == ISSUER
    for name, suffix in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks.json"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/logout"),
    ]:
        assert meta[name] == ISSUER + suffix
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert meta["request_parameter_supported"] is False
    assert meta["request_uri_parameter_supported"] is False
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert "none" not in meta["introspection_endpoint_auth_methods_supported"]
    assert {"openid", "offline_access"} <= set(meta["scopes_supported"])
    assert "de" in meta["ui_locales_supported"]


def test_both_metadata_documents_agree(client):
    """The OIDC and RFC 8414 documents are the same document."""
    first, second = (client.get(path).json for path in METADATA_PATHS)
    assert first == second


def test_jwks_keys_each_have_a_kid_and_no_private_parts(client):
    """Every published key has kid, use=sig, alg and no private RSA members."""
    response = client.get("/jwks.json")
    assert response.status_code == 200
    jwks = response.json
    assert len(jwks["keys"]) >= 1
    for key in jwks["keys"]:
        assert key["kid"]
        assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_jwks_is_stable_between_requests(client):
    """The first-set-up key is stored, not regenerated per request."""
    assert client.get("/jwks.json").json == client.get("/jwks.json").json


def kids(browser) -> list[str]:
    return [key["kid"] for key in browser.get("/jwks.json").json["keys"]]


def test_rotation_publishes_the_new_key_and_keeps_the_previous(client, factory, app):
    """After rotate_keys the JWKS has two keys; new ID tokens use the new kid; old ones verify."""
    rp = factory.client()
    person = factory.account()
    old_token = obtain_tokens(client, rp, person)["id_token"]
    [old_kid] = kids(client)
    old_jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(old_token, old_jwks, algorithms=["RS256"]).header["kid"] == old_kid

    with app.app_context():
        new_kid = keys.rotate_keys().kid
    published = kids(client)
    assert len(published) == 2
    assert set(published) == {old_kid, new_kid}

    new_token = obtain_tokens(client, rp, person)["id_token"]
    jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(new_token, jwks, algorithms=["RS256"]).header["kid"] == new_kid
    assert jwt.decode(old_token, jwks, algorithms=["RS256"]).header["kid"] == old_kid


def test_second_rotation_retires_the_oldest_key(client, app):
    """Only the signing key and its predecessor stay published."""
    [first] = kids(client)
    with app.app_context():
        second = keys.rotate_keys().kid
        third = keys.rotate_keys().kid
    published = kids(client)
    assert set(published) == {second, third}
    assert first not in published


def test_id_token_signed_with_retired_key_is_no_longer_a_valid_hint(client, factory, app):
    """An id_token_hint signed by a retired key no longer verifies (invalid_request)."""
    from tests.helpers import authorize_params, authorize_url, pkce_pair, query

    rp = factory.client()
    token = obtain_tokens(client, rp, factory.account())["id_token"]
    with app.app_context():
        keys.rotate_keys()
        keys.rotate_keys()
    params = authorize_params(rp, pkce_pair()[1], id_token_hint=token)
    response = client.get(authorize_url(params))
    assert query(response.location)["error"] == "invalid_request"
