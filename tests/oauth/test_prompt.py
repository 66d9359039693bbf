"""prompt, max_age, id_token_hint, login_hint, ui_locales and the consent screen."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from app.models import BrowserSession, utcnow
from tests.helpers import (
    ISSUER,
    REDIRECT_URI,
    authorize_params,
    authorize_url,
    csrf_token,
    obtain_tokens,
    pkce_pair,
    query,
    redeem,
    sign_in,
    sign_in_at,
    update_rows,
)


def id_token_claims(browser, id_token: str) -> dict:
    """Claims of an ID token verified against the published JWKS."""
    jwks = KeySet.import_key_set(browser.get("/jwks.json").json)
    return jwt.decode(id_token, jwks, algorithms=["RS256"]).claims


def assert_error_redirect(response, params, error: str) -> None:
    """A redirect to the client with ``error``, the request's state and iss."""
    assert response.status_code in (302, 303), response.data
    assert response.location.startswith(REDIRECT_URI + "?"), response.location
    got = query(response.location)
    assert got["error"] == error
    assert got["state"] == params["state"]
    assert got["iss"] == ISSUER
    assert "code" not in got


def assert_code_redirect(response, params) -> str:
    """A redirect to the client with a code, state and iss; returns the code."""
    assert response.status_code in (302, 303), response.data
    assert response.location.startswith(REDIRECT_URI + "?code="), response.location
    got = query(response.location)
    assert got["state"] == params["state"] and got["iss"] == ISSUER
    return got["code"]


def backdate_sessions(app, seconds: int) -> None:
    """Pretend every browser session signed in ``seconds`` ago."""
    changed = update_rows(app, BrowserSession, {}, auth_time=utcnow() - timedelta(seconds=seconds))
    assert changed >= 1


def start(browser, rp, **extra):
    """Send an authorization request; returns (response, params, verifier)."""
    verifier, challenge = pkce_pair()
    params = authorize_params(rp, challenge, **extra)
    return browser.get(authorize_url(params)), params, verifier


def consent(browser, consent_location: str, allow: bool):
    """Answer the consent page at ``consent_location``."""
    page = browser.get(consent_location)
    assert page.status_code == 200, page.data
    path = urlsplit(consent_location).path
    choice = {"allow": "1"} if allow else {"deny": "1"}
    return browser.post(
        path + "/consent", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **choice}
    )


# -- prompt=none ---------------------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(client, factory):
    """prompt=none with nobody signed in → login_required redirect with state and iss."""
    rp = factory.client()
    response, params, _ = start(client, rp, prompt="none")
    assert_error_redirect(response, params, "login_required")


def test_prompt_none_third_party_without_consent_is_consent_required(client, factory):
    """prompt=none, signed in, third-party client never consented → consent_required."""
    rp = factory.client(first_party=False)
    assert sign_in(client, factory.account()).status_code == 303
    response, params, _ = start(client, rp, prompt="none")
    assert_error_redirect(response, params, "consent_required")


def test_prompt_none_with_session_and_first_party_issues_a_code(client, factory):
    """prompt=none, signed in, first-party client → a code without any page."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    response, params, verifier = start(client, rp, prompt="none")
    code = assert_code_redirect(response, params)
    assert redeem(client, rp, code, verifier).status_code == 200


def test_prompt_none_with_max_age_zero_is_login_required(client, factory, app):
    """prompt=none cannot satisfy max_age=0 (it would need a fresh sign-in) → login_required."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    backdate_sessions(app, seconds=30)
    response, params, _ = start(client, rp, prompt="none", max_age="0")
    assert_error_redirect(response, params, "login_required")


def test_prompt_none_with_login_is_invalid(client, factory):
    """prompt=none combined with another value is refused (OIDC Core §3.1.2.1)."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    response, params, _ = start(client, rp, prompt="none login")
    assert_error_redirect(response, params, "invalid_request")


# -- prompt=login, max_age ----------------------------------------------------------------


def test_prompt_login_with_session_forces_sign_in_then_issues_a_code(client, factory):
    """prompt=login shows the sign-in form despite a session; after it the code is issued."""
    rp = factory.client()
    person = factory.account()
    assert sign_in(client, person).status_code == 303
    response, params, verifier = start(client, rp, prompt="login")
    assert response.status_code == 303 and "/interaction/" in response.location
    page = client.get(response.location)
    assert page.status_code == 200 and b'name="password"' in page.data
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    assert signed_in.status_code == 303
    final = client.get(signed_in.location)
    code = assert_code_redirect(final, params)
    assert redeem(client, rp, code, verifier).status_code == 200


def test_max_age_zero_forces_sign_in_and_auth_time_is_fresh(client, factory, app):
    """max_age=0 forces a new sign-in; the ID token's auth_time is present and recent."""
    rp = factory.client()
    person = factory.account()
    assert sign_in(client, person).status_code == 303
    backdate_sessions(app, seconds=600)
    before = int(time.time())
    response, params, verifier = start(client, rp, max_age="0")
    assert response.status_code == 303 and "/interaction/" in response.location
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    code = assert_code_redirect(client.get(signed_in.location), params)
    body = redeem(client, rp, code, verifier).json
    claims = id_token_claims(client, body["id_token"])
    assert isinstance(claims["auth_time"], int)
    assert before - 1 <= claims["auth_time"] <= int(time.time())


def test_max_age_exceeded_forces_sign_in(client, factory, app):
    """A session older than max_age sends the browser to the sign-in form again."""
    rp = factory.client()
    assert sign_in(client, factory.account()).status_code == 303
    backdate_sessions(app, seconds=120)
    response, _, _ = start(client, rp, max_age="60")
    assert response.status_code == 303 and "/interaction/" in response.location
    assert b'name="password"' in client.get(response.location).data


def test_max_age_within_the_session_needs_no_sign_in(client, factory):
    """A generous max_age is satisfied by the session and auth_time is still in the ID token."""
    rp = factory.client()
    person = factory.account()
    before = int(time.time())
    assert sign_in(client, person).status_code == 303
    response, params, verifier = start(client, rp, max_age="3600")
    code = assert_code_redirect(response, params)
    claims = id_token_claims(client, redeem(client, rp, code, verifier).json["id_token"])
    assert before - 1 <= claims["auth_time"] <= int(time.time())


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "", "9" * 4301, "12345678901"])
def test_invalid_max_age_is_invalid_request(client, factory, max_age):
    """A max_age that is not a non-negative integer → invalid_request redirect."""
    rp = factory.client()
    response, params, _ = start(client, rp, max_age=max_age)
    assert_error_redirect(response, params, "invalid_request")


# -- id_token_hint, login_hint, ui_locales ----------------------------------------------------


def test_id_token_hint_for_another_user_forces_sign_in(client, factory, app):
    """With Bob signed in, an id_token_hint naming Ada sends the browser to the sign-in form."""
    rp = factory.client()
    ada = factory.account()
    bob = factory.account(email="bob@example.com", given_name="Bob")
    other_browser = app.test_client()
    ada_token = obtain_tokens(other_browser, rp, ada)["id_token"]

    assert sign_in(client, bob).status_code == 303
    response, params, _ = start(client, rp, id_token_hint=ada_token)
    assert response.status_code == 303 and "/interaction/" in response.location
    assert b'name="password"' in client.get(response.location).data


def test_id_token_hint_for_another_user_with_prompt_none_is_login_required(client, factory, app):
    """prompt=none with a hint for someone else than the session → login_required."""
    rp = factory.client()
    ada = factory.account()
    bob = factory.account(email="bob@example.com")
    ada_token = obtain_tokens(app.test_client(), rp, ada)["id_token"]
    assert sign_in(client, bob).status_code == 303
    response, params, _ = start(client, rp, id_token_hint=ada_token, prompt="none")
    assert_error_redirect(response, params, "login_required")


def test_id_token_hint_for_the_signed_in_user_issues_a_code(client, factory):
    """A hint naming the signed-in person with prompt=none → a code."""
    rp = factory.client()
    person = factory.account()
    tokens = obtain_tokens(client, rp, person)
    response, params, _ = start(client, rp, id_token_hint=tokens["id_token"], prompt="none")
    assert_code_redirect(response, params)


@pytest.mark.parametrize("hint", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_invalid_id_token_hint_is_invalid_request(client, factory, hint):
    """An id_token_hint that is not an ID token signed here → invalid_request redirect."""
    rp = factory.client()
    response, params, _ = start(client, rp, id_token_hint=hint)
    assert_error_redirect(response, params, "invalid_request")


def test_id_token_hint_issued_to_another_client_is_invalid_request(client, factory):
    """A genuine ID token issued to another client is not a hint for this one."""
    rp = factory.client()
    other = factory.client(name="Other")
    token = obtain_tokens(client, other, factory.account())["id_token"]
    response, params, _ = start(client, rp, id_token_hint=token)
    assert_error_redirect(response, params, "invalid_request")


def test_login_hint_prefills_the_email_field(client, factory):
    """login_hint appears as the value of the email field on the sign-in form."""
    rp = factory.client()
    response, _, _ = start(client, rp, login_hint="grace@example.com")
    page = client.get(response.location)
    assert page.status_code == 200
    assert b'value="grace@example.com"' in page.data


def test_login_hint_is_escaped(client, factory):
    """A login_hint with markup is HTML-escaped, not injected."""
    rp = factory.client()
    response, _, _ = start(client, rp, login_hint='"><script>x</script>')
    page = client.get(response.location).get_data(as_text=True)
    assert "<script>x</script>" not in page


def test_ui_locales_de_renders_german(client, factory):
    """ui_locales=de renders the sign-in page in German."""
    rp = factory.client()
    response, _, _ = start(client, rp, ui_locales="de")
    page = client.get(response.location)
    text = page.get_data(as_text=True)
    assert "Anmelden" in text and "Passwort" in text
    assert '<html lang="de">' in text


def test_ui_locales_falls_back_to_a_supported_language(client, factory):
    """ui_locales="fr de-CH" picks German, the first supported tag."""
    rp = factory.client()
    response, _, _ = start(client, rp, ui_locales="fr de-CH")
    assert "Anmelden" in client.get(response.location).get_data(as_text=True)


def test_without_ui_locales_the_page_is_english(client, factory):
    """Without ui_locales or Accept-Language the page is in English."""
    rp = factory.client()
    response, _, _ = start(client, rp)
    text = client.get(response.location).get_data(as_text=True)
    assert "Sign in" in text and "Anmelden" not in text


# -- consent ---------------------------------------------------------------------------------


def test_prompt_consent_on_a_first_party_client_shows_consent(client, factory):
    """prompt=consent shows the consent screen even for a first-party client."""
    rp = factory.client(first_party=True)
    assert sign_in(client, factory.account()).status_code == 303
    response, params, _ = start(client, rp, prompt="consent")
    assert response.status_code == 303 and "/interaction/" in response.location
    page = client.get(response.location)
    assert page.status_code == 200 and b'name="allow"' in page.data
    assert_code_redirect(consent(client, response.location, allow=True), params)


def test_consent_deny_is_access_denied(client, factory):
    """Denying consent → access_denied redirect with state and iss."""
    rp = factory.client(first_party=False)
    person = factory.account()
    response, params, _ = start(client, rp)
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    assert signed_in.status_code == 303
    denied = consent(client, signed_in.location, allow=False)
    assert denied.status_code == 303
    assert_error_redirect(denied, params, "access_denied")


def test_consent_without_csrf_token_issues_nothing(client, factory):
    """A consent POST without its CSRF token gets a 400 page and no code."""
    rp = factory.client(first_party=False)
    person = factory.account()
    response, _, _ = start(client, rp)
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    posted = client.post(urlsplit(signed_in.location).path + "/consent", data={"allow": "1"})
    assert posted.status_code == 400
    assert "Location" not in posted.headers


def test_consent_is_remembered_per_client_and_scope(client, factory):
    """After consenting, the same scope needs no consent; a wider scope asks again."""
    rp = factory.client(first_party=False)
    person = factory.account()
    response, params, _ = start(client, rp, scope="openid email")
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    assert_code_redirect(consent(client, signed_in.location, allow=True), params)

    same, params, _ = start(client, rp, scope="openid email")
    assert_code_redirect(same, params)
    narrower, params, _ = start(client, rp, scope="openid")
    assert_code_redirect(narrower, params)

    wider, params, _ = start(client, rp, scope="openid email profile")
    assert wider.status_code == 303 and "/interaction/" in wider.location
    page = client.get(wider.location)
    assert page.status_code == 200 and b'name="allow"' in page.data
    assert_code_redirect(consent(client, wider.location, allow=True), params)
    again, params, _ = start(client, rp, scope="openid email profile", prompt="none")
    assert_code_redirect(again, params)


def test_consent_is_not_shared_between_clients(client, factory):
    """Consent given to one third-party client does not cover another."""
    first = factory.client(first_party=False)
    second = factory.client(first_party=False, name="Second")
    person = factory.account()
    response, params, _ = start(client, first)
    signed_in = sign_in_at(client, response.location, person.email, person.password)
    assert_code_redirect(consent(client, signed_in.location, allow=True), params)
    response, params, _ = start(client, second, prompt="none")
    assert_error_redirect(response, params, "consent_required")


def test_interaction_belongs_to_the_browser_that_started_it(client, factory, app):
    """Another browser opening a paused request's URL gets the expired page, not a form."""
    rp = factory.client()
    response, _, _ = start(client, rp)
    stranger = app.test_client()
    page = stranger.get(response.location)
    assert page.status_code == 400
    assert b'name="password"' not in page.data


# -- step-up cannot be skipped ----------------------------------------------------------------


@pytest.mark.parametrize("first_party", [True, False])
@pytest.mark.parametrize("step_up", ["prompt_login", "max_age_0", "hint_for_someone_else"])
def test_consent_post_cannot_skip_a_required_sign_in(client, factory, app, step_up, first_party):
    """While the request still wants a fresh sign-in, POSTing the consent form (valid
    CSRF token, allow) issues no code: the browser is sent back to the sign-in page."""
    rp = factory.client(first_party=first_party)
    person = factory.account()
    extra = {"prompt_login": {"prompt": "login"}, "max_age_0": {"max_age": "0"}}.get(step_up, {})
    if step_up == "hint_for_someone_else":
        other = factory.account(email="bob@example.com", given_name="Bob")
        extra = {"id_token_hint": _id_token(app.test_client(), rp, other)}
    assert sign_in(client, person).status_code == 303
    backdate_sessions(app, 5)
    response, _, _ = start(client, rp, **extra)
    assert response.status_code == 303 and "/interaction/" in response.location
    posted = consent(client, response.location, allow=True)
    assert posted.status_code == 303
    assert urlsplit(posted.location).path == urlsplit(response.location).path
    assert b'name="password"' in client.get(posted.location).data


def test_sign_in_post_when_no_sign_in_is_asked_for_changes_nothing(client, factory, app):
    """A sign-in POST to a request that only wants consent does not sign anyone in."""
    rp = factory.client(first_party=False)
    ada = factory.account()
    bob = factory.account(email="bob@example.com", given_name="Bob")
    assert sign_in(client, ada).status_code == 303
    response, _, _ = start(client, rp)
    posted = sign_in_at(client, response.location, bob.email, bob.password)
    assert posted.status_code == 303
    assert urlsplit(posted.location).path == urlsplit(response.location).path
    assert b"Bob" not in client.get("/account").data


def _id_token(browser, rp, person) -> str:
    """An ID token for ``person`` from ``rp``, consenting when the client asks."""
    response, params, verifier = start(browser, rp)
    response = sign_in_at(browser, response.location, person.email, person.password)
    answer = browser.get(response.location)
    if answer.status_code == 200:  # the consent page of a third-party client
        answer = consent(browser, response.location, allow=True)
    code = assert_code_redirect(answer, params)
    return redeem(browser, rp, code, verifier).json["id_token"]
