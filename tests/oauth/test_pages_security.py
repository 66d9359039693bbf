"""Page hardening: security headers, CSRF, 303 after POST, cookies, no-store, RFC 6749
error characters, and argon2 rehashing on sign-in."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from app.extensions import db
from app.models import Account
from tests.helpers import (
    PASSWORD,
    REDIRECT_URI,
    authorize_params,
    authorize_url,
    csrf_token,
    is_signed_in,
    obtain_code,
    obtain_tokens,
    pkce_pair,
    query,
    redeem,
    rfc6749_safe,
    sign_in,
    sign_in_at,
    update_rows,
)


def assert_hardened(response) -> None:
    """The anti-framing, referrer and CSP headers every page must carry."""
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def html_pages(browser, factory, app):
    """Yield (name, response) for every kind of HTML page the server renders."""
    rp = factory.client()
    third = factory.client(first_party=False, name="Third")
    person = factory.account()
    yield "sign-in", browser.get("/login")
    yield "signed-out", browser.get("/signed-out")
    yield "not-found", browser.get("/no-such-page")
    yield (
        "error-page",
        browser.get(authorize_url(authorize_params(rp, pkce_pair()[1], client_id="nobody"))),
    )
    yield "expired-interaction", browser.get("/interaction/unknown-uid")
    yield (
        "bad-credentials",
        browser.post(
            "/login",
            data={
                "csrf_token": csrf_token(browser.get("/login").get_data(as_text=True)),
                "email": person.email,
                "password": "wrong password",
            },
        ),
    )
    start = browser.get(authorize_url(authorize_params(third, pkce_pair()[1])))
    yield "interaction-sign-in", browser.get(start.location)
    signed_in = sign_in_at(browser, start.location, person.email, person.password)
    yield "consent", browser.get(signed_in.location)
    yield "account", browser.get("/account")
    yield "logout-confirm", browser.get("/logout")
    yield "logout-error", browser.get("/logout?id_token_hint=nope")


def test_every_html_page_carries_the_security_headers(client, factory, app):
    """CSP with frame-ancestors 'none', X-Frame-Options DENY and no-referrer on every page."""
    seen = []
    for name, response in html_pages(client, factory, app):
        assert response.mimetype == "text/html", name
        assert_hardened(response)
        assert response.headers["Cache-Control"] == "no-store", name
        seen.append((name, response.status_code))
    assert ("consent", 200) in seen and ("interaction-sign-in", 200) in seen
    assert ("logout-confirm", 200) in seen and ("account", 200) in seen


def test_json_endpoints_also_refuse_framing(client):
    """Protocol JSON answers carry the same anti-framing headers."""
    for path in ("/jwks.json", "/.well-known/openid-configuration"):
        assert_hardened(client.get(path))


def test_interaction_csp_allows_only_the_client_origin_as_extra_form_action(client, factory):
    """The sign-in page's form-action allows 'self' and the redirect_uri's origin, no wildcard."""
    rp = factory.client()
    start = client.get(authorize_url(authorize_params(rp, pkce_pair()[1])))
    csp = client.get(start.location).headers["Content-Security-Policy"]
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("form-action"))
    assert directive.split()[1:] == ["'self'", "https://rp.example.com"]


# -- CSRF, 303, cookies ----------------------------------------------------------------------


def test_sign_in_post_without_csrf_is_refused(client, factory):
    """Sign-in POST without a CSRF token → 400 and no session."""
    person = factory.account()
    client.get("/login")
    response = client.post("/login", data={"email": person.email, "password": person.password})
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_interaction_sign_in_without_csrf_is_refused(client, factory):
    """Signing in for a paused request without a CSRF token → 400, no session, no code."""
    rp = factory.client()
    person = factory.account()
    start = client.get(authorize_url(authorize_params(rp, pkce_pair()[1])))
    client.get(start.location)
    response = client.post(
        urlsplit(start.location).path + "/login",
        data={"email": person.email, "password": person.password},
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not is_signed_in(client)


@pytest.mark.parametrize("way", ["login", "passkey"])
def test_signing_in_for_an_unknown_paused_request_explains_it(client, factory, way):
    """A password or passkey sign-in posted for a paused request that does not exist
    (expired, finished, another browser's) gets the expired page: 400, no session."""
    person = factory.account()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"/interaction/no-such-request/{way}",
        data={"csrf_token": token, "email": person.email, "password": person.password},
    )
    assert response.status_code == 400
    assert "This sign-in request has expired" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_successful_sign_in_answers_303(client, factory):
    """A successful sign-in POST answers 303 See Other to the account page."""
    response = sign_in(client, factory.account())
    assert response.status_code == 303
    assert response.location.endswith("/account")
    assert is_signed_in(client)


def test_wrong_password_is_400_without_session(client, factory):
    """A wrong password re-renders the form with 400 and signs nobody in."""
    person = factory.account()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": person.email,
            "password": "not the password",
        },
    )
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_disabled_account_cannot_sign_in(client, factory, app):
    """A disabled account's correct password does not start a session."""
    person = factory.account()
    update_rows(app, Account, {"sub": person.sub}, disabled=True)
    assert sign_in(client, person).status_code == 400
    assert not is_signed_in(client)


def test_session_cookie_is_httponly_and_samesite_lax(client, factory):
    """The session cookie set at sign-in is HttpOnly and SameSite=Lax."""
    response = sign_in(client, factory.account())
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith("vestibule_session="))
    attributes = [part.strip().lower() for part in session_cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_session_cookie_is_secure_outside_development():
    """Production (and the shared defaults) mark the session cookie Secure."""
    from config import Config, ProductionConfig

    assert Config.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_token_responses_are_not_cached(client, factory):
    """Success and error token responses both carry Cache-Control: no-store."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    assert tokens["access_token"]
    error = client.post(
        "/token",
        headers=rp.basic_auth(),
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
    )
    assert error.status_code == 400
    assert error.headers["Cache-Control"] == "no-store"
    unauthenticated = client.post("/token", data={"grant_type": "client_credentials"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Cache-Control"] == "no-store"


# -- RFC 6749 error characters -----------------------------------------------------------------

NASTY = '"\\'


def test_redirect_uri_with_quote_and_backslash_is_an_error_page(client, factory):
    """A redirect_uri containing " and \\ gets a 400 page (no redirect, no 500)."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], redirect_uri=REDIRECT_URI + NASTY)
    response = client.get(authorize_url(params))
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("response_type", ['co"de', "code\\", 'token"', 'id_token "x'])
def test_response_type_with_a_quote_is_400_not_500(client, factory, response_type):
    """A response_type containing " or \\ is answered with a 400 page, not a 500."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], response_type=response_type)
    response = client.get(authorize_url(params))
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("scope", "invalid_scope"),
        ("prompt", "invalid_request"),
        ("max_age", "invalid_request"),
        ("code_challenge", "invalid_request"),
        ("code_challenge_method", "invalid_request"),
        ("response_mode", "invalid_request"),
        ("id_token_hint", "invalid_request"),
        ("ui_locales", None),
        ("login_hint", None),
        ("nonce", None),
        ("state", None),
    ],
)
def test_authorization_errors_stay_within_rfc6749_characters(client, factory, name, outcome):
    """Parameters carrying " and \\ get the right error without those characters in the text."""
    rp = factory.client()
    params = authorize_params(rp, pkce_pair()[1], **{name: "x" + NASTY + "y"})
    response = client.get(authorize_url(params))
    if outcome is None:
        # Harmless free text: the request simply pauses for sign-in.
        assert response.status_code == 303
        assert response.location.startswith("/interaction/")
        return
    assert response.status_code == 302
    got = query(response.location)
    assert got["error"] == outcome
    assert got["iss"] == "http://localhost"
    assert rfc6749_safe(got["error_description"])


@pytest.mark.parametrize(
    ("field", "outcome"),
    [
        ("grant_type", "unsupported_grant_type"),
        ("code", "invalid_grant"),
        ("redirect_uri", "invalid_grant"),
        ("code_verifier", "invalid_grant"),
        ("scope", None),
        ("refresh_token", None),
    ],
)
def test_token_errors_stay_within_rfc6749_characters(client, factory, field, outcome):
    """Token-endpoint errors caused by " and \\ in a field keep error_description clean."""
    rp = factory.client()
    code, verifier, _ = obtain_code(client, rp, factory.account())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": rp.redirect_uri,
    }
    data[field] = "x" + NASTY + "y"
    response = client.post("/token", headers=rp.basic_auth(), data=data)
    if outcome is None:
        # Not a parameter of the code grant: ignored.
        assert response.status_code == 200, response.json
        return
    assert response.status_code == 400
    assert response.json["error"] == outcome
    assert rfc6749_safe(response.json.get("error_description", ""))


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b'cli"ent:se\\cret').decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        'Bearer "x\\',
    ],
)
def test_malformed_client_authentication_is_401_not_500(client, factory, header):
    """Broken Authorization headers at /token → 401 invalid_client with safe characters."""
    response = client.post(
        "/token", headers={"Authorization": header}, data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert rfc6749_safe(response.json.get("error_description", ""))


def test_unknown_token_type_hint_is_ignored(client, factory):
    """A token_type_hint with " and \\ is only a hint: ignored, the answer is unchanged."""
    rp = factory.client()
    tokens = obtain_tokens(client, rp, factory.account())
    hint = 'access"\\'
    unknown = client.post(
        "/revoke", headers=rp.basic_auth(), data={"token": "never-issued", "token_type_hint": hint}
    )
    assert unknown.status_code == 200
    body = client.post(
        "/introspect",
        headers=rp.basic_auth(),
        data={"token": tokens["access_token"], "token_type_hint": hint},
    ).json
    assert body["active"] is True
    revoked = client.post(
        "/revoke",
        headers=rp.basic_auth(),
        data={"token": tokens["access_token"], "token_type_hint": hint},
    )
    assert revoked.status_code == 200
    assert client.post(
        "/introspect",
        headers=rp.basic_auth(),
        data={"token": tokens["access_token"], "token_type_hint": hint},
    ).json == {"active": False}


def test_userinfo_challenge_stays_within_rfc6749_characters(client):
    """The WWW-Authenticate error_description for a bad token has no " or \\ inside."""
    response = client.get("/userinfo", headers={"Authorization": 'Bearer x"\\y'})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.lower().startswith("bearer ")
    params = dict(re.findall(r'(\w+)="([^"\\]*)"', challenge))
    assert params["error"] == "invalid_token"
    assert rfc6749_safe(params["error_description"])
    # Every quote in the header belongs to one of the parsed name="value" pairs.
    assert challenge.count('"') == 2 * len(params)


def test_state_with_quote_and_backslash_is_echoed_exactly(client, factory):
    """state is echoed byte for byte even with characters error text may not use."""
    rp = factory.client()
    state = 'a"b\\c d'
    params = authorize_params(rp, None, state=state)
    got = query(client.get(authorize_url(params)).location)
    assert got["error"] == "invalid_request"
    assert got["state"] == state


# -- argon2 --------------------------------------------------------------------------------------


def test_password_hash_is_argon2id(factory, app):
    """Passwords are stored as argon2id PHC strings, never in clear."""
    person = factory.account()
    with app.app_context():
        stored = db.session.scalar(select(Account.password_hash).where(Account.sub == person.sub))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_outdated_argon2_hash_is_rehashed_on_sign_in(client, factory, app):
    """A hash made with other parameters is replaced by one with the configured parameters."""
    person = factory.account()
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2, type=Type.ID).hash(PASSWORD)
    update_rows(app, Account, {"sub": person.sub}, password_hash=old)

    assert sign_in(client, person).status_code == 303
    with app.app_context():
        stored = db.session.scalar(select(Account.password_hash).where(Account.sub == person.sub))
        cfg = app.config
    assert stored != old
    current = PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
        type=Type.ID,
    )
    assert not current.check_needs_rehash(stored)
    assert current.verify(stored, PASSWORD)


def test_current_hash_is_not_rewritten(client, factory, app):
    """A hash already made with the configured parameters is left alone on sign-in."""
    person = factory.account()
    with app.app_context():
        before = db.session.scalar(select(Account.password_hash).where(Account.sub == person.sub))
    assert sign_in(client, person).status_code == 303
    with app.app_context():
        after = db.session.scalar(select(Account.password_hash).where(Account.sub == person.sub))
    assert after == before


def test_failed_sign_in_does_not_rehash(client, factory, app):
    """A wrong password never rewrites the stored hash."""
    person = factory.account()
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2, type=Type.ID).hash(PASSWORD)
    update_rows(app, Account, {"sub": person.sub}, password_hash=old)
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": person.email,
            "password": "wrong password",
        },
    )
    with app.app_context():
        stored = db.session.scalar(select(Account.password_hash).where(Account.sub == person.sub))
    assert stored == old


def test_code_flow_after_rehash_still_works(client, factory, app):
    """After a rehash the person can still complete a code flow."""
    rp = factory.client()
    person = factory.account()
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2, type=Type.ID).hash(PASSWORD)
    update_rows(app, Account, {"sub": person.sub}, password_hash=old)
    code, verifier, _ = obtain_code(client, rp, person)
    assert redeem(client, rp, code, verifier).status_code == 200


# -- bad input never ends in a 500 ----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["client_id", "redirect_uri", "state", "nonce", "login_hint", "scope", "code_challenge"]
)
def test_nul_character_at_authorize_is_400(client, factory, name):
    """A NUL character in an authorization parameter → 400 page (PostgreSQL cannot store it)."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    params = authorize_params(rp, pkce_pair()[1], **{name: "a\x00b"})
    response = client.get(authorize_url(params))
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
def test_nul_character_in_client_id_is_a_clean_error(client, factory, path):
    """A NUL character in client_id (form or Basic) at the token endpoints → 4xx JSON, no 500."""
    factory.client()
    posted = client.post(
        path,
        data={
            "grant_type": "client_credentials",
            "token": "x",
            "client_id": "a\x00b",
            "client_secret": "s",
        },
    )
    assert posted.status_code == 400
    assert posted.json["error"] == "invalid_request"
    for raw in (b"a\x00b:s", b"a%00b:s"):
        basic = client.post(
            path,
            data={"grant_type": "client_credentials", "token": "x"},
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        )
        assert basic.status_code == 401, raw
        assert basic.json["error"] == "invalid_client"


def test_basic_credentials_that_are_not_utf8_are_401(client, factory):
    """Basic credentials that do not decode as UTF-8 → 401 invalid_client, not a 500."""
    raw = base64.b64encode(b"\xff\xfe:\xff").decode()
    response = client.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def test_nul_character_in_sign_in_email_is_400(client, factory):
    """A NUL character in the sign-in email → 400, nobody signed in."""
    person = factory.account()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": person.email + "\x00",
            "password": person.password,
        },
    )
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_nul_character_in_paths_is_400(client):
    """A NUL character in an interaction uid or logout client_id → 400 page."""
    assert client.get("/interaction/a%00b").status_code == 400
    assert client.get("/logout?client_id=a%00b").status_code == 400


def test_overlong_nonce_is_invalid_request(client, factory):
    """A nonce longer than can be stored → invalid_request redirect, not a 500 at code issue."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    params = authorize_params(rp, pkce_pair()[1], nonce="n" * 513)
    response = client.get(authorize_url(params))
    assert response.status_code == 302
    got = query(response.location)
    assert got["error"] == "invalid_request" and got["state"] == params["state"]
    assert "code" not in got


def test_long_nonce_within_limit_is_accepted(client, factory):
    """A 512-character nonce is accepted and comes back in the ID token."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    rp = factory.client()
    nonce = "n" * 512
    tokens = obtain_tokens(client, rp, factory.account(), nonce=nonce)
    jwks = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(tokens["id_token"], jwks, algorithms=["RS256"]).claims["nonce"] == nonce
