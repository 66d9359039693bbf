"""The second-factor step (issue 16): after the password, in a paused authorization and
on the standalone sign-in; the policy (client mfa required/optional/off, acr_values,
MFA_FOR_ADMIN_ROLES); amr and acr in a real code flow's ID token; nobody is signed in
between the password and the code."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from app.accounts.mfa_policy import ACR_MFA, ACR_PASSWORD
from tests.helpers import (
    assert_error_redirect,
    authorize_params,
    authorize_url,
    csrf_token,
    is_signed_in,
    pkce_pair,
    query,
    redeem,
    sign_in,
    sign_in_at,
    start_authorization,
    update_rows,
)
from tests.mfa import (
    code_for,
    enrol,
    post_code,
    shown_recovery_codes,
    shown_secret,
    stored_secret,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _id_token_claims(browser, rp, code: str, verifier: str) -> dict:
    response = redeem(browser, rp, code, verifier)
    assert response.status_code == 200, response.json
    jwks = KeySet.import_key_set(browser.get("/jwks.json").json)
    return jwt.decode(response.json["id_token"], jwks, algorithms=["RS256"]).claims


def _password_step(client, rp, person, **extra):
    """Start a request and give the password; returns (started, the next page)."""
    started = start_authorization(client, rp, **extra)
    answer = sign_in_at(client, started.location, person.email, person.password)
    assert answer.status_code == 303, _text(answer)
    assert answer.location.endswith(started.uid)
    return started, client.get(answer.location)


def _at_client(client, response, rp) -> str:
    """Follow redirects until the client's callback; its code."""
    while response.status_code in (302, 303) and not response.location.startswith(rp.redirect_uri):
        response = client.get(response.location)
    assert response.status_code in (302, 303), _text(response)
    assert response.location.startswith(rp.redirect_uri), response.location
    return query(response.location)["code"]


# -- a client that requires it -------------------------------------------------------------


def test_required_client_leads_a_person_without_one_through_setting_it_up(app, client, factory):
    """Password, then the set-up page (QR code, secret), a first code, the recovery
    codes once, then the client gets a code whose ID token says pwd, otp, mfa."""
    rp = factory.client(mfa="required")
    person = factory.account()
    started, page = _password_step(client, rp, person)
    text = _text(page)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in text and "Set it up now to continue" in text
    assert not is_signed_in(client)  # nobody is signed in between password and code
    secret = shown_secret(text)
    assert stored_secret(app, person.sub) is None  # showing the set-up writes nothing
    page = client.get(started.location)  # reloading shows the same secret
    assert shown_secret(_text(page)) == secret
    shown = post_code(client, page, code_for(secret))
    assert shown.status_code == 200, _text(shown)
    assert len(shown_recovery_codes(_text(shown))) == 10
    assert f'href="/interaction/{started.uid}"' in _text(shown)
    code = _at_client(client, client.get(f"/interaction/{started.uid}"), rp)
    claims = _id_token_claims(client, rp, code, started.verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA


def test_required_client_asks_an_enrolled_person_for_the_code(app, client, factory):
    """Password, "Enter the code from your authenticator app", then the client."""
    rp = factory.client(mfa="required")
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    started, page = _password_step(client, rp, person)
    assert "Enter the code from your authenticator app" in _text(page)
    answer = post_code(client, page, code_for(secret, 1))
    code = _at_client(client, answer, rp)
    claims = _id_token_claims(client, rp, code, started.verifier)
    assert "otp" in claims["amr"] and claims["acr"] == ACR_MFA


def test_wrong_and_reused_codes_are_refused_and_nobody_is_signed_in(app, client, factory):
    """A wrong code: 400 on the same page, not signed in. A code used once already
    (here by the first sign-in) is refused at the next."""
    rp = factory.client(mfa="required")
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    started, page = _password_step(client, rp, person)
    wrong = "000000" if code_for(secret) != "000000" else "111111"
    answer = post_code(client, page, wrong)
    assert answer.status_code == 400
    assert "this code is not right" in _text(answer)
    assert not is_signed_in(client)
    used = code_for(secret, 1)
    _at_client(client, post_code(client, answer, used), rp)
    other = app.test_client()
    _, page = _password_step(other, rp, person)
    assert post_code(other, page, used).status_code == 400


def test_a_recovery_code_stands_in_for_the_app(app, client, factory):
    """A recovery code signs in once; the same one again is refused."""
    rp = factory.client(mfa="required")
    person = factory.account()
    _, codes = enrol(app, person.sub)
    _, page = _password_step(client, rp, person)
    _at_client(client, post_code(client, page, codes[0]), rp)
    other = app.test_client()
    _, page = _password_step(other, rp, person)
    assert post_code(other, page, codes[0]).status_code == 400


def test_the_code_form_needs_its_csrf_token(app, client, factory):
    """The step's form is refused without the page's token."""
    rp = factory.client(mfa="required")
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    started, _ = _password_step(client, rp, person)
    answer = client.post(f"/interaction/{started.uid}/second-factor", data={"code": "1"})
    assert answer.status_code == 400
    assert not is_signed_in(client)


# -- optional and off ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mfa", "enrolled", "asked"),
    [
        ("optional", True, True),
        ("optional", False, False),
        ("off", True, False),
        ("off", False, False),
    ],
)
def test_optional_and_off_clients(app, client, factory, mfa, enrolled, asked):
    """optional: the code only from people who set it up; off: from nobody (for the
    client's sake). Without the step the ID token says pwd."""
    rp = factory.client(mfa=mfa)
    person = factory.account()
    secret = enrol(app, person.sub)[0] if enrolled else None
    started = start_authorization(client, rp)
    answer = sign_in_at(client, started.location, person.email, person.password)
    page = client.get(answer.location)
    if asked:
        assert "Enter the code from your authenticator app" in _text(page)
        page = post_code(client, page, code_for(secret, 1))
    code = _at_client(client, page, rp)
    claims = _id_token_claims(client, rp, code, started.verifier)
    assert claims["acr"] == (ACR_MFA if asked else ACR_PASSWORD)
    assert claims["amr"] == (["pwd", "otp", "mfa"] if asked else ["pwd"])


def test_acr_values_asking_for_mfa_adds_the_step(app, client, factory):
    """acr_values=urn:vestibule:acr:mfa gets the step even from a client with mfa off."""
    rp = factory.client()
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    started, page = _password_step(client, rp, person, acr_values=ACR_MFA)
    code = _at_client(client, post_code(client, page, code_for(secret, 1)), rp)
    assert _id_token_claims(client, rp, code, started.verifier)["acr"] == ACR_MFA


def test_a_password_session_steps_up_for_a_client_that_requires_it(app, client, factory):
    """Signed in with a password (for a client with mfa off), a request of a client
    requiring it asks for the code only, then the session counts as mfa."""
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    plain = factory.client(name="Plain")
    strict = factory.client(mfa="required", name="Strict", redirect_uris=["https://s.example/cb"])
    _, page = _password_step(client, plain, person)
    _at_client(client, page, plain)
    started = start_authorization(client, strict)
    page = client.get(started.location)
    assert "Enter the code from your authenticator app" in _text(page)
    code = _at_client(client, post_code(client, page, code_for(secret, 1)), strict)
    claims = _id_token_claims(client, strict, code, started.verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_prompt_none_with_the_step_pending_is_interaction_required(app, client, factory):
    """A password session and a client requiring the second factor: prompt=none cannot
    ask for it."""
    person = factory.account()
    rp = factory.client(mfa="required")
    assert sign_in(client, person).status_code == 303
    _, challenge = pkce_pair()
    params = authorize_params(rp, challenge, prompt="none")
    response = client.get(authorize_url(params))
    assert_error_redirect(response, rp, params, "interaction_required")


# -- the standalone sign-in, the account page and the dashboard ----------------------------


def test_standalone_sign_in_asks_for_the_code(app, client, factory):
    """/login with a password, then /login/second-factor, then the account page; not
    signed in before the code."""
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    answer = sign_in(client, person)
    assert answer.status_code == 303 and answer.location.startswith("/login/second-factor")
    assert client.get("/account").location == "/login"
    page = client.get(answer.location)
    done = post_code(client, page, code_for(secret, 1))
    assert done.status_code == 303 and done.location == "/account"
    assert is_signed_in(client)


def test_someone_else_can_sign_in_instead(app, client, factory):
    """The held password can be given up for another account's sign-in."""
    person = factory.account()
    enrol(app, person.sub)
    answer = sign_in(client, person)
    page = client.get(answer.location)
    text = _text(page)
    cancel = client.post(
        "/login/second-factor/cancel?to=/account", data={"csrf_token": csrf_token(text)}
    )
    assert cancel.status_code == 303
    assert client.get("/login/second-factor").location == "/login?next=/account"


def test_a_password_session_needs_the_code_for_the_account_page(app, client, factory):
    """A person who set up two-step sign-in, signed in with a password for a client
    with mfa off, is asked for the code before the account page."""
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    rp = factory.client()
    _, page = _password_step(client, rp, person)
    _at_client(client, page, rp)
    response = client.get("/account")
    assert response.location == "/login/second-factor?next=/account"
    page = client.get(response.location)
    assert post_code(client, page, code_for(secret, 1)).location == "/account"
    assert client.get("/account").status_code == 200


@pytest.fixture
def admin_rule(app, monkeypatch):
    """MFA_FOR_ADMIN_ROLES on for this test."""
    monkeypatch.setitem(app.config, "MFA_FOR_ADMIN_ROLES", True)


@pytest.mark.parametrize("role", ["admin", "secondary_admin"])
def test_admins_set_up_a_second_factor_before_the_dashboard(app, client, factory, admin_rule, role):
    """MFA_FOR_ADMIN_ROLES: an administrator's password leads to setting up an
    authenticator, and only then to the dashboard."""
    admin = factory.account("boss@example.com", roles=[role])
    answer = sign_in(client, admin)
    assert answer.location.startswith("/login/second-factor")
    assert client.get("/admin/").location.startswith("/login?next=")
    page = client.get(answer.location)
    secret = shown_secret(_text(page))
    shown = post_code(client, page, code_for(secret))
    assert len(shown_recovery_codes(_text(shown))) == 10
    assert client.get("/admin/").status_code in (200, 302)
    assert not client.get("/admin/invitations").location


def test_the_dashboard_refuses_an_admins_password_session(app, client, factory, admin_rule):
    """A session signed in with a password before the rule was on (or for a client
    that did not ask) still does not open the dashboard."""
    admin = factory.account("boss@example.com", roles=["admin"])
    app.config["MFA_FOR_ADMIN_ROLES"] = False
    assert sign_in(client, admin).location == "/account"
    app.config["MFA_FOR_ADMIN_ROLES"] = True
    response = client.get("/admin/invitations")
    assert response.location == "/login/second-factor?next=/admin/invitations"


def test_admins_need_it_at_every_client_too(app, client, factory, admin_rule):
    """The rule holds at a client with mfa off as well."""
    admin = factory.account("boss@example.com", roles=["admin"])
    rp = factory.client()
    _, page = _password_step(client, rp, admin)
    assert "Set it up now to continue" in _text(page)


def test_people_without_admin_roles_are_not_asked(app, client, factory, admin_rule):
    """The rule is about admin and secondary_admin only."""
    person = factory.account("ivy@example.com", roles=["user_invite"])
    assert sign_in(client, person).location == "/account"


def test_the_step_in_german(app, client, factory):
    """The step's page speaks the request's ui_locales."""
    rp = factory.client(mfa="required")
    person = factory.account()
    _, page = _password_step(client, rp, person, ui_locales="de")
    assert "Anmeldung in zwei Schritten" in _text(page)
    assert 'lang="de"' in _text(page)


def test_discovery_advertises_amr_and_acr(client):
    """acr_values_supported, and amr and acr among the claims."""
    metadata = client.get("/.well-known/openid-configuration").json
    assert metadata["acr_values_supported"] == [ACR_PASSWORD, ACR_MFA]
    assert {"amr", "acr"} <= set(metadata["claims_supported"])


def test_signing_in_from_the_registration_page_asks_for_the_code(app, client, factory):
    """prompt=create shows the registration page; signing in there instead goes on to
    the second factor (not back to the registration page)."""
    rp = factory.client(mfa="required", signup_mode="public")
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    started = start_authorization(client, rp, prompt="create")
    answer = sign_in_at(client, started.location, person.email, person.password)
    page = client.get(answer.location)
    assert "Enter the code from your authenticator app" in _text(page)
    _at_client(client, post_code(client, page, code_for(secret, 1)), rp)


def test_every_account_form_needs_the_code_too(app, client, factory):
    """With a password session, no form under /account (passkeys included) does
    anything before the code: adding a passkey must not get round the second factor."""
    person = factory.account()
    enrol(app, person.sub)
    rp = factory.client()
    _, page = _password_step(client, rp, person)
    _at_client(client, page, rp)
    token = csrf_token(_text(client.get("/login")))
    for path in ("/account/passkeys/options", "/account/two-step/remove", "/account/profile"):
        answer = client.post(path, data={"csrf_token": token, "password": person.password})
        assert answer.status_code == 303, path
        assert answer.location == "/login/second-factor?next=/account", path


def test_the_standalone_step_forms_need_their_csrf_token(app, client, factory):
    """The code form and "sign in with another account" refuse a post without the token,
    and the held password stays held."""
    person = factory.account()
    secret, _ = enrol(app, person.sub)
    sign_in(client, person)
    assert (
        client.post("/login/second-factor", data={"code": code_for(secret, 1)}).status_code == 400
    )
    assert client.post("/login/second-factor/cancel").status_code == 400
    assert not is_signed_in(client)
    assert "Enter the code" in _text(client.get("/login/second-factor"))


def test_a_passkey_session_needs_no_code(app, client, factory):
    """A passkey with user verification is two factors: a client requiring the second
    factor issues a code at once, and the ID token says hwk and the mfa acr."""
    from app.models import BrowserSession

    person = factory.account()
    assert sign_in(client, person).status_code == 303
    update_rows(app, BrowserSession, {"ended_at": None}, amr=["hwk"])
    rp = factory.client(mfa="required")
    verifier, challenge = pkce_pair()
    response = client.get(authorize_url(authorize_params(rp, challenge)))
    code = _at_client(client, response, rp)
    claims = _id_token_claims(client, rp, code, verifier)
    assert claims["amr"] == ["hwk"] and claims["acr"] == ACR_MFA
