"""Signing in over https as deployed, in Chromium: a third-party relying party's code
flow through consent to tokens, the logout confirmation, and a sign-in that resumes the
playground's paused request."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from joserfc.jwk import KeySet

from app.playground.client import Settings, verify_id_token
from tests.helpers import authorize_params, authorize_url, bearer, pkce_pair, query
from tests.production.deployment import PLAYGROUND_ID

pytestmark = pytest.mark.browser


def sign_in_on(page, person) -> None:
    """Fill and submit the sign-in form the page shows."""
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_third_party_sign_in_consent_code_and_tokens(walk, deployment):
    """Sign-in → consent → code at the RP → /token over TLS → a verified ID token."""
    from playwright.sync_api import expect

    page, issuer, rp = walk.page, deployment.issuer, deployment.rp
    verifier, challenge = pkce_pair()
    # prompt=consent: both variants serve one installation, and the first one's walk
    # has already granted what this one asks for.
    params = authorize_params(rp, challenge, scope="openid profile email", prompt="consent")

    page.goto(issuer + authorize_url(params))
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    sign_in_on(page, deployment.person)
    expect(page.get_by_role("heading", name="Production RP wants to access")).to_be_visible()
    walk.screenshot("sign-in-consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?"))
    walk.finish("sign-in-code-at-rp")

    answer = query(page.url)
    assert answer["state"] == params["state"]
    assert answer["iss"] == issuer
    back_channel = deployment.client()
    tokens = back_channel.post(
        "/token",
        form={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        headers=rp.basic_auth(),
    )
    assert tokens.status == 200, tokens.text
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json()
    keys = KeySet.import_key_set(back_channel.get("/jwks.json").json())
    settings = Settings(issuer, rp.client_id, rp.secret)
    id_token = verify_id_token(settings, body["id_token"], params["nonce"], keys)
    assert id_token.claims["sub"] == deployment.person.sub
    userinfo = back_channel.get("/userinfo", headers=bearer(body["access_token"]))
    assert userinfo.status == 200, userinfo.text
    assert userinfo.json()["email"] == deployment.person.email


def test_logout_without_hint_asks_then_signs_out(walk, deployment):
    """RP-initiated logout without id_token_hint shows a confirmation; confirming signs out
    and returns to the registered post-logout URI with the state."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in_page

    page, issuer = walk.page, deployment.issuer
    sign_in_page(page, deployment, deployment.person)
    back_to = f"{issuer}/playground/"
    logout = {"client_id": PLAYGROUND_ID, "post_logout_redirect_uri": back_to, "state": "bye-1"}

    page.goto(f"{issuer}/logout?{urlencode(logout)}")
    expect(page.get_by_role("heading", name="Sign out")).to_be_visible()
    walk.screenshot("logout-confirm")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{back_to}?state=bye-1")
    page.goto(f"{issuer}/account")
    page.wait_for_url(f"{issuer}/login")
    walk.finish("logout-signed-out")


def test_sign_in_resumes_the_playground_request(walk, deployment):
    """Signed out at the playground → Sign in → the sign-in page → back at the playground
    signed in, the ID token's claims shown."""
    from playwright.sync_api import expect

    page, issuer, person = walk.page, deployment.issuer, deployment.person
    page.goto(f"{issuer}/playground/")
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    expect(page.get_by_text("Sign in to continue to Vestibule Playground")).to_be_visible()
    sign_in_on(page, person)

    page.wait_for_url(f"{issuer}/playground/")
    claims = page.locator("#id-token-claims")
    expect(claims).to_contain_text(person.sub)
    expect(claims).to_contain_text(issuer)
    expect(page.locator("#userinfo")).to_contain_text(person.email)
    walk.finish("playground-resumed")
