"""PKCE (RFC 7636 / RFC 9700 §2.1.1): S256 only, required by policy, no downgrade."""

from __future__ import annotations

import pytest

from tests.helpers import (
    ISSUER,
    assert_error_redirect,
    authorize_params,
    authorize_url,
    obtain_code,
    pkce_pair,
    query,
    redeem,
    sign_in,
)


@pytest.mark.parametrize("public", [True, False], ids=["public", "confidential"])
def test_missing_code_challenge_is_refused_with_a_redirect(client, factory, public):
    """No code_challenge → error=invalid_request redirect carrying state and iss."""
    rp = factory.client(public=public)
    params = authorize_params(rp, None)
    response = client.get(authorize_url(params))
    assert_error_redirect(response, rp, params, "invalid_request")


def test_missing_code_challenge_is_refused_even_when_signed_in(client, factory):
    """A signed-in person does not get a code for a request without PKCE."""
    rp = factory.client()
    person = factory.account()
    assert sign_in(client, person).status_code == 303
    params = authorize_params(rp, None)
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_plain_code_challenge_method_is_refused(client, factory):
    """code_challenge_method=plain → invalid_request redirect."""
    rp = factory.client()
    verifier, _ = pkce_pair()
    params = authorize_params(rp, None, code_challenge=verifier, code_challenge_method="plain")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_code_challenge_without_method_is_refused(client, factory):
    """A challenge without code_challenge_method (which would default to plain) is refused."""
    rp = factory.client()
    _, challenge = pkce_pair()
    params = authorize_params(rp, None, code_challenge=challenge)
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_method_without_code_challenge_is_refused(client, factory):
    """code_challenge_method=S256 without a code_challenge is refused."""
    rp = factory.client()
    params = authorize_params(rp, None, code_challenge_method="S256")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


@pytest.mark.parametrize("challenge", ["short", "a" * 42, "a" * 44, "+" * 43, "=" * 43])
def test_malformed_code_challenge_is_refused(client, factory, challenge):
    """A code_challenge that cannot be a BASE64URL SHA-256 digest is refused."""
    rp = factory.client()
    params = authorize_params(rp, None, code_challenge=challenge, code_challenge_method="S256")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_wrong_code_verifier_gives_invalid_grant(client, factory):
    """A verifier that does not hash to the stored challenge → 400 invalid_grant."""
    rp = factory.client()
    code, _, _ = obtain_code(client, rp, factory.account())
    other_verifier, _ = pkce_pair()
    response = redeem(client, rp, code, other_verifier)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"
    assert "access_token" not in response.json


def test_malformed_code_verifier_gives_an_error(client, factory):
    """A verifier outside RFC 7636's syntax (too short) is refused with 400."""
    rp = factory.client()
    code, _, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, "too-short")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


@pytest.mark.parametrize("public", [True, False], ids=["public", "confidential"])
def test_missing_verifier_when_challenge_was_sent_is_refused(client, factory, public):
    """Downgrade: a code issued for a challenge cannot be redeemed without a verifier."""
    rp = factory.client(public=public)
    code, _, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, None)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert "access_token" not in response.json


def test_relaxed_client_with_openid_and_nonce_may_omit_pkce(client, factory):
    """A confidential client with require_pkce=False gets a code for openid + nonce without PKCE."""
    rp = factory.client(require_pkce=False)
    person = factory.account()
    assert sign_in(client, person).status_code == 303
    params = authorize_params(rp, None)
    response = client.get(authorize_url(params))
    assert response.status_code == 302
    got = query(response.location)
    assert "error" not in got and got["state"] == params["state"] and got["iss"] == ISSUER
    tokens = redeem(client, rp, got["code"], None)
    assert tokens.status_code == 200, tokens.json
    assert tokens.json["id_token"]


def test_verifier_without_stored_challenge_is_refused(client, factory):
    """A code_verifier for a code issued without a challenge is refused (RFC 9700 §4.8.2)."""
    rp = factory.client(require_pkce=False)
    person = factory.account()
    assert sign_in(client, person).status_code == 303
    response = client.get(authorize_url(authorize_params(rp, None)))
    code = query(response.location)["code"]
    verifier, _ = pkce_pair()
    refused = redeem(client, rp, code, verifier)
    assert refused.status_code == 400
    assert refused.json["error"] == "invalid_request"
    assert "access_token" not in refused.json


def test_relaxed_client_without_nonce_must_use_pkce(client, factory):
    """require_pkce=False does not relax PKCE when the request has no nonce."""
    rp = factory.client(require_pkce=False)
    params = authorize_params(rp, None, nonce=None)
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_relaxed_client_without_openid_must_use_pkce(client, factory):
    """require_pkce=False does not relax PKCE for a plain OAuth (non-openid) request."""
    rp = factory.client(require_pkce=False)
    params = authorize_params(rp, None, scope="profile email")
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_relaxed_client_sending_a_challenge_must_send_the_verifier(client, factory):
    """A relaxed client that did send a challenge is held to it at /token."""
    rp = factory.client(require_pkce=False)
    code, _, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, None)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_public_client_always_requires_pkce(client, factory):
    """A public client sending openid + nonce still needs a code_challenge."""
    rp = factory.client(public=True)
    params = authorize_params(rp, None)
    assert params["nonce"] and "openid" in params["scope"]
    assert_error_redirect(client.get(authorize_url(params)), rp, params, "invalid_request")


def test_public_client_cannot_be_registered_without_pkce(app):
    """Registering a public client with require_pkce=False is refused."""
    from app.clients.service import ClientError, create_client

    with app.app_context(), pytest.raises(ClientError):
        create_client(
            "Public RP", ["https://rp.example.com/callback"], public=True, require_pkce=False
        )


def test_public_client_redeems_with_correct_verifier(client, factory):
    """A public client with the right verifier and only its client_id gets tokens."""
    rp = factory.client(public=True)
    code, verifier, _ = obtain_code(client, rp, factory.account())
    response = redeem(client, rp, code, verifier)
    assert response.status_code == 200, response.json
    assert response.json["token_type"].lower() == "bearer"
