"""CSRF over HTTPS: the session-bound token plus Fetch Metadata, with our own
``Referrer-Policy: no-referrer`` (browsers then send no ``Referer`` and ``Origin: null``).

The requests here use an ``https://`` base URL so Flask sees a secure request, as it
does in production behind TLS (the production tier walks the same forms in Chromium).
"""

from __future__ import annotations

import pytest

from tests.helpers import authorize_params, csrf_token, pkce_pair

HTTPS = "https://localhost"
#: What Chromium sends on a same-origin form POST under ``no-referrer``.
BROWSER_FORM_HEADERS = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}


def _post_sign_in(client, account, headers: dict):
    page = client.get("/login", base_url=HTTPS)
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": account.email,
        "password": account.password,
    }
    return client.post("/login", data=data, headers=headers, base_url=HTTPS)


def test_https_sign_in_without_referer_succeeds(client, factory):
    """A same-origin form over HTTPS with no Referer (our referrer policy) signs in."""
    account = factory.account()
    response = _post_sign_in(client, account, BROWSER_FORM_HEADERS)
    assert response.status_code == 303, response.get_data(as_text=True)


def test_https_sign_in_from_a_program_without_fetch_metadata_succeeds(client, factory):
    """No Sec-Fetch-Site (an older browser, a script): the token alone decides."""
    account = factory.account()
    assert _post_sign_in(client, account, {}).status_code == 303


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_form_post_from_another_site_is_refused(client, factory, site):
    """A valid token does not help a request the browser says came from elsewhere."""
    account = factory.account()
    response = _post_sign_in(client, account, {"Sec-Fetch-Site": site})
    assert response.status_code == 400
    assert "not sent from this site" in response.get_data(as_text=True)


def test_post_without_token_is_refused_even_same_origin(client, factory):
    """Fetch Metadata is the second layer: the token is still required."""
    account = factory.account()
    data = {"email": account.email, "password": account.password}
    response = client.post("/login", data=data, headers=BROWSER_FORM_HEADERS, base_url=HTTPS)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "header", [{"Referer": "https://host:bad/"}, {"Origin": "https://host:bad"}, {"Referer": "::"}]
)
def test_malformed_referer_or_origin_is_never_a_500(client, header):
    """A garbled Referer or Origin on a protected form is a clear 4xx."""
    page = client.get("/password/forgot", base_url=HTTPS)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": "a@example.com"}
    response = client.post("/password/forgot", data=data, headers=header, base_url=HTTPS)
    assert response.status_code in (303, 400)


def test_registration_form_from_another_site_is_refused(client):
    """The registration form checks its token by hand, and Fetch Metadata too."""
    page = client.get("/login", base_url=HTTPS)  # the token is bound to the session
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/registration",
        data={"csrf_token": token, "email": "x@example.com", "password": "long enough pw"},
        headers={"Sec-Fetch-Site": "cross-site"},
        base_url=HTTPS,
    )
    assert response.status_code == 400


def test_json_registration_from_another_site_is_refused(client):
    """A JSON registration the browser marks cross-site is refused like a foreign Origin."""
    response = client.post(
        "/registration",
        json={"email": "x@example.com", "password": "long enough pw"},
        headers={"Sec-Fetch-Site": "cross-site"},
        base_url=HTTPS,
    )
    assert response.status_code == 403
    assert response.json["error"] == "invalid_origin"


def test_relying_parties_may_still_post_to_authorize_cross_site(client, factory):
    """/authorize accepts POST from relying parties' pages (exempt from CSRF)."""
    rp = factory.client()
    _, challenge = pkce_pair()
    response = client.post(
        "/authorize",
        data=authorize_params(rp, challenge),
        headers={"Sec-Fetch-Site": "cross-site"},
        base_url=HTTPS,
    )
    assert response.status_code == 303
    assert "/interaction/" in response.location


def test_sign_in_renews_the_csrf_secret(client, factory):
    """A CSRF token issued before signing in (e.g. planted by someone who fixed the
    session) no longer works afterwards; a fresh page's token does."""
    account = factory.account()
    before = csrf_token(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": before, "email": account.email, "password": account.password},
        base_url=HTTPS,
    )
    assert response.status_code == 303
    stale = client.post("/logout/confirm", data={"csrf_token": before}, base_url=HTTPS)
    assert stale.status_code == 400
    after = csrf_token(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    assert after != before
