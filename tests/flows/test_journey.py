"""The whole relying-party journey, checked the way an outside RP would check it."""

from __future__ import annotations

from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers import (
    authorize_params,
    authorize_url,
    csrf_token,
    pkce_pair,
    query,
    redeem,
    sign_in_at,
)

ISSUER = "http://localhost"


def verify_id_token(browser, id_token: str, audience: str, nonce: str) -> dict:
    """Verify with joserfc against the JWKS the server publishes, as an RP would."""
    jwks = KeySet.import_key_set(browser.get("/jwks.json").json)
    token = jwt.decode(id_token, jwks, algorithms=["RS256"])
    assert token.header["kid"] in {k["kid"] for k in browser.get("/jwks.json").json["keys"]}
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": audience},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        auth_time={"essential": True},
    )
    registry.validate(token.claims)
    return token.claims


def test_full_journey_with_consent(client, factory):
    """authorize → sign-in → consent → code → token → userinfo → refresh → revoke → logout."""
    rp = factory.client(first_party=False)
    person = factory.account()
    meta = client.get("/.well-known/openid-configuration").json
    assert meta["issuer"] == ISSUER and meta["code_challenge_methods_supported"] == ["S256"]

    verifier, challenge = pkce_pair()
    params = authorize_params(rp, challenge)
    start = client.get(authorize_url(params))
    assert start.status_code == 303 and "/interaction/" in start.location

    signed_in = sign_in_at(client, start.location, person.email, person.password)
    assert signed_in.status_code == 303
    consent_page = client.get(signed_in.location)
    assert consent_page.status_code == 200 and b"Allow" in consent_page.data
    consent = client.post(
        urlsplit(signed_in.location).path + "/consent",
        data={"csrf_token": csrf_token(consent_page.get_data(as_text=True)), "allow": "1"},
    )
    assert consent.status_code == 303
    back = query(consent.location)
    assert consent.location.startswith(rp.redirect_uri)
    assert back["state"] == params["state"] and back["iss"] == ISSUER

    tokens = redeem(client, rp, back["code"], verifier)
    assert tokens.status_code == 200, tokens.json
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json
    claims = verify_id_token(client, body["id_token"], rp.client_id, params["nonce"])
    assert claims["sub"] == person.sub and claims["email"] == person.email

    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.json["sub"] == person.sub

    refreshed = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.json
    assert refreshed.json["refresh_token"] != body["refresh_token"]

    revoked = client.post(
        "/revoke",
        headers=rp.basic_auth(),
        data={"token": refreshed.json["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    after = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {refreshed.json['access_token']}"}
    )
    assert after.status_code == 401 and "WWW-Authenticate" in after.headers

    bye = client.get(
        "/logout?"
        + "&".join(
            [
                f"id_token_hint={body['id_token']}",
                "post_logout_redirect_uri=https://rp.example.com/bye",
                "state=xyz",
            ]
        )
    )
    assert bye.status_code == 302
    assert bye.location == "https://rp.example.com/bye?state=xyz"
    assert client.get("/account").status_code == 302  # signed out: back to sign-in

    # Consent is remembered: a second authorization goes straight back with a code.
    again = client.get(authorize_url(authorize_params(rp, pkce_pair()[1])))
    again = sign_in_at(client, again.location, person.email, person.password)
    final = client.get(again.location)
    assert final.status_code == 302 and "code=" in final.location
