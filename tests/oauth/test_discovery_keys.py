"""Discovery documents (OIDC Discovery, RFC 8414), the JWKS and key rotation."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.fernet import InvalidToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import text

from app.crypto import unseal
from app.extensions import db
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


# -- keys at rest: sealed private parts, public parts in clear ---------------------------

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def stored_rows(app) -> list[dict]:
    """Every signing_keys row as the database holds it (no ORM type in between)."""
    with app.app_context():
        return [
            dict(row) for row in db.session.execute(text("SELECT * FROM signing_keys")).mappings()
        ]


def test_private_keys_are_sealed_at_rest(client, app):
    """No column of any key row holds a private member in clear; unsealed, it is there."""
    with app.app_context():
        keys.ensure_signing_key()
        keys.publish_next_key()
        keys.rotate_keys()
    rows = stored_rows(app)
    assert len(rows) == 2
    for row in rows:
        assert '"d"' not in "".join(str(value) for value in row.values())
        with app.app_context():
            private = json.loads(unseal(row["private_jwk_sealed"], keys.SEAL_PURPOSE))
        assert set(private) >= PRIVATE_MEMBERS
        assert private["d"] not in "".join(str(value) for value in row.values())


def test_key_sealed_under_an_old_secret_key_opens_with_the_fallbacks(client, factory, app):
    """After SECRET_KEY changes, a key sealed under the old one still signs when the
    old key is in SECRET_KEY_FALLBACKS, and cannot be opened without it."""
    with app.app_context():
        kid = keys.ensure_signing_key().kid
    app.config.update(SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[])
    try:
        with app.app_context(), pytest.raises(InvalidToken):
            keys._open(keys.ensure_signing_key())
        app.config["SECRET_KEY_FALLBACKS"] = ["testing-secret-key"]
        token = obtain_tokens(client, factory.client(), factory.account())["id_token"]
    finally:
        app.config.update(SECRET_KEY="testing-secret-key", SECRET_KEY_FALLBACKS=[])
    jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(token, jwks, algorithms=["RS256"]).header["kid"] == kid


def test_jwks_and_id_token_hints_never_open_a_private_key(client, factory, app, monkeypatch):
    """The JWKS and id_token_hint verification work from the public parts alone."""
    rp = factory.client()
    token = obtain_tokens(client, rp, factory.account())["id_token"]
    with app.app_context():
        keys.publish_next_key()

    def refuse(*args):
        raise AssertionError("a private key was opened")

    monkeypatch.setattr(keys, "unseal", refuse)
    published = client.get("/jwks.json").json["keys"]
    assert len(published) == 2
    assert not any(PRIVATE_MEMBERS & set(key) for key in published)
    with app.app_context():
        assert jwt.decode(token, keys.verification_keys(), algorithms=["RS256"]).claims["aud"]


def test_signing_key_is_parsed_once_per_kid(client, factory, app, monkeypatch):
    """Many ID tokens and JWKS requests parse the private key once, not per token."""
    calls = []
    original = RSAKey.import_key

    def counting(value, *args, **kwargs):
        calls.append(value)
        return original(value, *args, **kwargs)

    monkeypatch.setattr(keys.RSAKey, "import_key", counting)
    rp, person = factory.client(), factory.account()
    for _ in range(3):
        obtain_tokens(client, rp, person)
        client.get("/jwks.json")
    assert len(calls) == 1 and "d" in calls[0]


# -- served like static files -------------------------------------------------------------

CACHED_PATHS = ["/jwks.json", *METADATA_PATHS]


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_public_documents_are_cacheable_with_a_strong_etag(client, path):
    """A strong ETag that is the body's hash, public max-age from JWKS_MAX_AGE."""
    response = client.get(path)
    etag, weak = response.get_etag()
    assert etag and not weak
    assert etag == hashlib.sha256(response.data).hexdigest()[:32]
    assert response.cache_control.public is True
    assert response.cache_control.max_age == 300
    assert "no-store" not in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_if_none_match_gets_304(client, path):
    """A matching If-None-Match is answered 304 with no body; a stale one gets the body."""
    etag = client.get(path).get_etag()[0]
    unchanged = client.get(path, headers={"If-None-Match": f'"{etag}"'})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.get_etag()[0] == etag
    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.json


def test_jwks_etag_changes_when_a_key_is_published(client, app):
    """Publishing a key (from any process) changes the JWKS body and ETag at once."""
    before = client.get("/jwks.json").get_etag()[0]
    with app.app_context():
        keys.publish_next_key()
    response = client.get("/jwks.json", headers={"If-None-Match": f'"{before}"'})
    assert response.status_code == 200
    assert response.get_etag()[0] != before and len(response.json["keys"]) == 2


# -- two-step rotation ------------------------------------------------------------------


def states(app) -> dict[str, str]:
    with app.app_context():
        return {row.kid: row.state for row in keys.all_keys()}


def test_published_next_key_does_not_sign(client, factory, app):
    """A next key is in the JWKS, but ID tokens are still signed by the current key
    and verify against the JWKS."""
    with app.app_context():
        current = keys.ensure_signing_key().kid
        upcoming = keys.publish_next_key().kid
    assert set(kids(client)) == {current, upcoming}
    token = obtain_tokens(client, factory.client(), factory.account())["id_token"]
    jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(token, jwks, algorithms=["RS256"]).header["kid"] == current


def test_rotate_promotes_the_next_key_and_keeps_the_previous(client, factory, app):
    """After rotate the published next key signs; the old one is previous and still in
    the JWKS, so both tokens verify; a second rotation retires it."""
    rp, person = factory.client(), factory.account()
    old_token = obtain_tokens(client, rp, person)["id_token"]
    with app.app_context():
        old = keys.ensure_signing_key().kid
        upcoming = keys.publish_next_key().kid
        assert keys.rotate_keys().kid == upcoming
    assert states(app) == {old: "previous", upcoming: "current"}
    new_token = obtain_tokens(client, rp, person)["id_token"]
    jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(new_token, jwks, algorithms=["RS256"]).header["kid"] == upcoming
    assert jwt.decode(old_token, jwks, algorithms=["RS256"]).header["kid"] == old
    with app.app_context():
        newest = keys.rotate_keys().kid
    assert states(app) == {old: "retired", upcoming: "previous", newest: "current"}
    assert set(kids(client)) == {upcoming, newest}


def test_rotate_promotes_the_oldest_of_several_next_keys(app):
    """With two next keys published, rotate makes the older one sign; the other waits."""
    with app.app_context():
        first = keys.ensure_signing_key().kid
        older = keys.publish_next_key().kid
        younger = keys.publish_next_key().kid
        keys.rotate_keys()
    assert states(app) == {first: "previous", older: "current", younger: "next"}
