"""Passkeys on the pages (issue 16): the script allowed only where WebAuthn is used,
options behind CSRF, signing in with a passkey on /login and in a paused request
(prompt=login included), and the account page's passkey section."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.accounts.service import find
from app.extensions import db
from app.models import BrowserSession, Event
from app.models.factors import Passkey
from tests.accounts.soft_passkey import SoftPasskey
from tests.helpers import (
    csrf_token,
    form_action,
    is_signed_in,
    row_counts,
    sign_in,
    start_authorization,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def options(browser, path: str, html: str, body: dict | None = None) -> dict:
    """POST for a ceremony's options with the page's CSRF token, as the script does."""
    answer = browser.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(html)})
    assert answer.status_code == 200, answer.data
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json


def add_passkey(browser, device: SoftPasskey, name: str = "Laptop"):
    """Add ``device`` on the account page of the signed-in ``browser``."""
    page = _text(browser.get("/account"))
    created = options(browser, "/account/passkeys/options", page)
    return browser.post(
        "/account/passkeys",
        data={"csrf_token": csrf_token(page), "name": name, "credential": device.create(created)},
    )


def passkey_sign_in(browser, device: SoftPasskey, page_path: str = "/login", **answer):
    """Sign in with ``device`` from the sign-in page at ``page_path``."""
    page = _text(browser.get(page_path))
    asked = options(browser, "/passkeys/authentication-options", page)
    action = form_action(page, "passkey-sign-in")
    return browser.post(
        action, data={"csrf_token": csrf_token(page), "credential": device.get(asked, **answer)}
    )


def forget(browser) -> None:
    """A new browser visit: no cookie (no session, no challenge) left."""
    browser.delete_cookie(browser.application.config["SESSION_COOKIE_NAME"])
    assert not is_signed_in(browser)


@pytest.fixture
def registered(app, client, factory):
    """A person signed in on ``client`` with one passkey; their software authenticator."""
    person = factory.account()
    sign_in(client, person)
    device = SoftPasskey()
    assert add_passkey(client, device).status_code == 303
    forget(client)
    return person, device


def test_only_pages_with_passkeys_may_run_the_script(client, factory):
    """/login loads /static/passkeys.js under script-src 'self' (no inline script, no
    inline handler); pages without WebAuthn keep a CSP without scripts."""
    page = client.get("/login")
    directives = _csp(page)
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    html = _text(page)
    assert '<script src="/static/passkeys.js" defer></script>' in html
    assert html.count("<script") == 1 and " onclick=" not in html
    assert 'autocomplete="username webauthn"' in html
    assert "script-src" not in _csp(client.get("/signed-out"))
    with client.get("/static/passkeys.js") as script:
        assert script.status_code == 200 and "navigator.credentials.get" in _text(script)


def test_options_need_the_csrf_token(client):
    """Asking for options changes the session (the challenge): a request without the
    page's token, or sent from another site, is refused."""
    assert client.post("/passkeys/authentication-options", json={}).status_code == 400
    page = _text(client.get("/login"))
    cross = client.post(
        "/passkeys/authentication-options",
        json={},
        headers={"X-CSRFToken": csrf_token(page), "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 400
    assert options(client, "/passkeys/authentication-options", page)["rpId"] == "localhost"


def test_sign_in_with_a_passkey(app, client, registered):
    """A passkey signs in at /login: a session with amr hwk and a user.login event."""
    person, device = registered
    answer = passkey_sign_in(client, device)
    assert answer.status_code == 303 and answer.location == "/account"
    assert is_signed_in(client)
    with app.app_context():
        row = db.session.scalar(select(BrowserSession).order_by(BrowserSession.id.desc()))
        assert row.amr == ["hwk"] and row.account.sub == person.sub
        assert "user.login" in db.session.scalars(select(Event.type))


def test_next_is_kept_and_checked(client, registered):
    """``next`` leads to a path on this site only."""
    _, device = registered
    answer = passkey_sign_in(client, device, "/login?next=/account%23passkeys")
    assert answer.location == "/account#passkeys"
    forget(client)
    answer = passkey_sign_in(client, device, "/login?next=//evil.example/")
    assert answer.location == "/account"


def test_refused_passkey_sign_ins_change_nothing(app, client, registered):
    """Without the CSRF token, with an answer sent twice, or not verified: the page
    says why (400) and nobody is signed in."""
    _, device = registered
    page = _text(client.get("/login"))
    asked = options(client, "/passkeys/authentication-options", page)
    before = row_counts(app)
    no_token = client.post("/login/passkey", data={"credential": device.get(asked)})
    assert no_token.status_code == 400 and not is_signed_in(client)
    answer = passkey_sign_in(client, device, verified=False)
    assert answer.status_code == 400
    assert "could not be verified" in _text(answer)
    assert 'id="passkey-error"' in _text(answer)
    assert row_counts(app) == before and not is_signed_in(client)
    page = _text(client.get("/login"))
    asked = options(client, "/passkeys/authentication-options", page)
    credential = device.get(asked)
    data = {"csrf_token": csrf_token(page), "credential": credential}
    assert client.post("/login/passkey", data=data).status_code == 303
    forget(client)
    page = _text(client.get("/login"))
    replay = client.post("/login/passkey", data={"csrf_token": csrf_token(page), **data})
    assert replay.status_code == 400 and "expired" in _text(replay)
    assert not is_signed_in(client)


def test_a_copied_cookie_cannot_replay_a_passkey_sign_in(app, client, registered):
    """Someone who copied the cookie before the person answered (a synced passkey,
    whose counter stays 0) sends the same answer again: refused, not signed in."""
    _, device = registered
    page = _text(client.get("/login"))
    asked = options(client, "/passkeys/authentication-options", page)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    other = app.test_client()
    other.set_cookie(cookie_name, client.get_cookie(cookie_name).value)
    data = {"csrf_token": csrf_token(page), "credential": device.get(asked, count=0)}
    assert client.post("/login/passkey", data=data).status_code == 303
    assert is_signed_in(client)
    replayed = other.post("/login/passkey", data=data)
    assert replayed.status_code == 400
    assert "answered already" in _text(replayed)
    assert not is_signed_in(other)


def test_passkey_in_a_paused_request_and_for_prompt_login(app, client, factory, registered):
    """The paused request's sign-in takes a passkey and resumes to the client; when
    signed in already, prompt=login asks again and a passkey satisfies it."""
    _, device = registered
    rp = factory.client()
    started = start_authorization(client, rp)
    uid = urlsplit(started.location).path.rsplit("/", 1)[-1]
    page = client.get(started.location)
    assert f"/interaction/{uid}/passkey" in _text(page)
    assert _csp(page)["script-src"] == "'self'"
    answer = passkey_sign_in(client, device, started.location)
    assert answer.status_code == 303 and answer.location.endswith(f"/interaction/{uid}")
    resumed = client.get(answer.location)
    assert resumed.status_code in (302, 303)
    assert resumed.location.startswith(rp.redirect_uri) and "code=" in resumed.location

    again = start_authorization(client, rp, prompt="login")
    assert 'name="password"' in _text(client.get(again.location))
    answer = passkey_sign_in(client, device, again.location)
    assert answer.status_code == 303
    resumed = client.get(answer.location)
    assert resumed.location.startswith(rp.redirect_uri) and "code=" in resumed.location


def test_account_page_adds_renames_and_removes(app, client, factory):
    """Add (named), rename, remove; a bad name adds nothing; another person's passkey
    cannot be touched."""
    person = factory.account()
    sign_in(client, person)
    before = row_counts(app)
    refused = add_passkey(client, SoftPasskey(), name="   ")
    assert refused.status_code == 400 and row_counts(app) == before
    answer = add_passkey(client, SoftPasskey(), name="Laptop")
    assert answer.status_code == 303 and answer.location.endswith("/account#passkeys")
    page = _text(client.get("/account"))
    assert "Laptop" in page and "Your passkey is added." in page
    with app.app_context():
        passkey_id = db.session.scalar(select(Passkey.id))
    token = csrf_token(page)
    renamed = client.post(
        f"/account/passkeys/{passkey_id}/rename", data={"csrf_token": token, "name": "Desk"}
    )
    assert renamed.status_code == 303
    assert "Desk" in _text(client.get("/account"))
    stranger = factory.account("grace@example.com")
    other = client.application.test_client()
    sign_in(other, stranger)
    other_token = csrf_token(_text(other.get("/account")))
    taken = other.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": other_token})
    assert taken.status_code == 404
    no_token = client.post(f"/account/passkeys/{passkey_id}/remove")
    assert no_token.status_code == 400
    removed = client.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Passkey)) is None


def test_last_passkey_of_a_passkey_only_account_cannot_go(app, client, factory):
    """The page refuses with a clear message and keeps the passkey."""
    person = factory.account()
    sign_in(client, person)
    add_passkey(client, SoftPasskey())
    with app.app_context():
        find(person.sub).password_hash = None
        db.session.commit()
        passkey_id = db.session.scalar(select(Passkey.id))
    token = csrf_token(_text(client.get("/account")))
    answer = client.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": token})
    assert answer.status_code == 409
    assert "only way to sign in" in _text(answer)
    with app.app_context():
        assert db.session.scalar(select(Passkey.id)) == passkey_id


def test_account_options_need_a_session(client):
    """Only a signed-in person can ask to add a passkey."""
    page = _text(client.get("/login"))
    answer = client.post(
        "/account/passkeys/options", json={}, headers={"X-CSRFToken": csrf_token(page)}
    )
    assert answer.status_code == 401
    assert json.loads(answer.data)["error"] == "login_required"
