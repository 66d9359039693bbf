"""Creating an account with a passkey (issue 16): from an invitation or self-service,
in the same single transaction as with a password, resuming the paused request; and
REGISTRATION_CREDENTIALS (password, passkey or both)."""

from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import service
from app.models import Account, BrowserSession, Event
from app.models.factors import Passkey
from tests.accounts.soft_passkey import SoftPasskey
from tests.helpers import (
    csrf_token,
    finish_at_client,
    form_action,
    invite,
    registration_page,
    row_counts,
    start_authorization,
)
from tests.web.test_passkey_pages import options


def _invited(browser, rp, invitation):
    return start_authorization(browser, rp, invite_id=invitation.token, view_type="register")


def _submit_with_passkey(browser, html: str, device: SoftPasskey, **fields):
    """What the page's script does: options, the authenticator, then the form."""
    created = options(
        browser, "/passkeys/registration-options", html, {"user_name": "ada@example.com"}
    )
    data = {"csrf_token": csrf_token(html), "passkey_credential": device.create(created), **fields}
    return browser.post(form_action(html, "registration"), data=data)


@pytest.fixture
def credentials(app, monkeypatch):
    """Set REGISTRATION_CREDENTIALS for one test."""

    def offer(value: str) -> None:
        monkeypatch.setitem(app.config, "REGISTRATION_CREDENTIALS", value)

    return offer


def test_invited_person_registers_with_a_passkey(app, client, shop, invitation):
    """No password: the account, its passkey, the accepted invitation, groups and roles,
    and the code for the client; the session's amr is hwk."""
    started = _invited(client, shop, invitation)
    page = registration_page(client, started)
    html = html_lib.unescape(page.get_data(as_text=True))
    assert "Create account with a passkey" in html and 'name="password"' in html
    device = SoftPasskey()
    response = _submit_with_passkey(client, html, device)
    got = finish_at_client(client, response, shop, started)
    assert got["code"] and got["state"] == started.params["state"]
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "ada@example.com"))
        assert account.password_hash is None
        assert [g.name for g in account.groups] == ["staff"]
        assert [r.name for r in account.roles] == ["editor"]
        (passkey,) = db.session.scalars(select(Passkey))
        assert passkey.account_id == account.id and passkey.credential_id == device.id
        assert account.webauthn_handle == device.handle.decode()
        assert service.find(invitation.id).accepted_sub == account.sub
        session_row = db.session.scalar(select(BrowserSession))
        assert session_row.amr == ["hwk"]
        types = set(db.session.scalars(select(Event.type)))
        assert {"user.created", "invitation.accepted", "user.passkey_added"} <= types


def test_self_service_with_a_passkey(app, client, factory, signup_mode):
    """Self-service registration takes a passkey too."""
    signup_mode("public")
    rp = factory.client(client_id="open")
    started = start_authorization(client, rp, prompt="create")
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    response = _submit_with_passkey(client, html, SoftPasskey(), email="lin@example.com")
    assert response.status_code == 303, response.data
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.email == "lin@example.com"))
        assert account.password_hash is None
        assert db.session.scalar(select(Passkey.account_id)) == account.id


def test_a_refused_passkey_creates_nothing(app, client, shop, invitation):
    """An answer that does not verify (no user verification) leaves every table as it
    was and the invitation pending; the form says why."""
    started = _invited(client, shop, invitation)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    before = row_counts(app)
    created = options(client, "/passkeys/registration-options", html)
    data = {
        "csrf_token": csrf_token(html),
        "passkey_credential": SoftPasskey().create(created, verified=False),
    }
    response = client.post(form_action(html, "registration"), data=data)
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    assert row_counts(app) == before
    with app.app_context():
        assert service.find(invitation.id).state != "accepted"


def test_a_passkey_registered_already_creates_nothing(app, client, factory, shop, invitation):
    """A credential stored for another account is refused before anything is written."""
    started = _invited(client, shop, invitation)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    device = SoftPasskey()
    created = options(client, "/passkeys/registration-options", html)
    credential = device.create(created)
    other = factory.account("grace@example.com")
    with app.test_request_context():
        from app.accounts import passkeys
        from app.accounts.service import find

        new = passkeys.NewPasskey(device.id, device.cose_key(), 0, "0" * 32, False, "h" * 43)
        passkeys.attach(find(other.sub), new, "Grace's")
        db.session.commit()
    before = row_counts(app)
    data = {"csrf_token": csrf_token(html), "passkey_credential": credential}
    response = client.post(form_action(html, "registration"), data=data)
    assert response.status_code == 409
    assert row_counts(app) == before


def test_passkey_only_registration(app, client, shop, invitation, credentials):
    """REGISTRATION_CREDENTIALS=passkey: no password field, and a password is refused
    with nothing written."""
    credentials("passkey")
    started = _invited(client, shop, invitation)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    assert 'name="password"' not in html and "Create account with a passkey" in html
    before = row_counts(app)
    data = {"csrf_token": csrf_token(html), "password": "a sturdy passphrase"}
    refused = client.post(form_action(html, "registration"), data=data)
    assert refused.status_code == 400 and "with a passkey" in refused.get_data(as_text=True)
    assert row_counts(app) == before
    response = _submit_with_passkey(client, html, SoftPasskey())
    assert response.status_code == 303


def test_password_only_registration(app, client, shop, invitation, credentials):
    """REGISTRATION_CREDENTIALS=password: no passkey offered, no script, no options, and
    a passkey posted anyway is refused with nothing written."""
    started = _invited(client, shop, invitation)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    created = options(client, "/passkeys/registration-options", html)
    credentials("password")
    page = registration_page(client, started)
    assert "passkey" not in page.get_data(as_text=True).lower()
    assert "script-src" not in page.headers["Content-Security-Policy"]
    token = {"X-CSRFToken": csrf_token(html)}
    off = client.post("/passkeys/registration-options", json={}, headers=token)
    assert off.status_code == 404
    before = row_counts(app)
    data = {"csrf_token": csrf_token(html), "passkey_credential": SoftPasskey().create(created)}
    refused = client.post(form_action(html, "registration"), data=data)
    assert refused.status_code == 400 and "with a password" in refused.get_data(as_text=True)
    assert row_counts(app) == before


def test_registration_credentials_setting_is_checked(app):
    """An unknown REGISTRATION_CREDENTIALS stops the app at start-up."""
    from app import create_app
    from config import ConfigurationError

    with pytest.raises(ConfigurationError, match="REGISTRATION_CREDENTIALS"):
        create_app("testing", REGISTRATION_CREDENTIALS="fingerprint")


def test_an_accepted_invitation_opened_again_offers_the_passkey(app, client, shop, invitation):
    """In another browser, the link of an invitation accepted with a passkey offers
    sign-in with it, and the passkey resumes that request to the client."""
    device = SoftPasskey()
    started = _invited(client, shop, invitation)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    assert _submit_with_passkey(client, html, device).status_code == 303
    other = app.test_client()
    again = _invited(other, shop, invitation)
    page = registration_page(other, again)
    html = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and 'id="passkey-sign-in"' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    asked = options(other, "/passkeys/authentication-options", html)
    action = form_action(html, "passkey-sign-in")
    assert f"/interaction/{again.uid}/passkey?invite_id=" in action
    data = {"csrf_token": csrf_token(html), "credential": device.get(asked)}
    answer = other.post(action, data=data)
    assert answer.status_code == 303, answer.data
    got = finish_at_client(other, answer, shop, again)
    assert got["code"] and got["state"] == again.params["state"]


@pytest.mark.parametrize(
    "issuer, rp_id, good",
    [
        ("https://id.example.com", "example.com", True),
        ("https://id.example.com", "id.example.com", True),
        ("https://id.example.com", "other.example", False),
        ("https://id.example.com", "ample.com", False),
    ],
)
def test_webauthn_rp_id_must_cover_the_issuer(issuer, rp_id, good):
    """WEBAUTHN_RP_ID is the ISSUER's host or a parent domain of it, or the app stops."""
    from app import create_app
    from config import ConfigurationError

    settings = {"ISSUER": issuer, "WEBAUTHN_RP_ID": rp_id}
    if good:
        assert create_app("testing", **settings).config["WEBAUTHN_RP_ID"] == rp_id
    else:
        with pytest.raises(ConfigurationError, match="WEBAUTHN_RP_ID"):
            create_app("testing", **settings)


def _member_with_passkey(app, client, factory) -> tuple[str, SoftPasskey]:
    """An account that added a passkey (then signed out of ``client``); its sub."""
    from tests.helpers import sign_in

    person = factory.account("grace@example.com", given_name="Grace")
    sign_in(client, person)
    page = client.get("/account").get_data(as_text=True)
    created = options(client, "/account/passkeys/options", page)
    device = SoftPasskey()
    data = {"csrf_token": csrf_token(page), "name": "Laptop", "credential": device.create(created)}
    assert client.post("/account/passkeys", data=data).status_code == 303
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    return person.sub, device


def _passkey_on(browser, html: str, device: SoftPasskey):
    asked = options(browser, "/passkeys/authentication-options", html)
    data = {"csrf_token": csrf_token(html), "credential": device.get(asked)}
    return browser.post(form_action(html, "passkey-sign-in"), data=data)


def test_an_existing_account_invitation_accepts_with_a_passkey(app, client, factory, shop):
    """The sign-in page of an invitation for an existing account offers the passkey;
    signing in with it accepts the invitation and resumes the request to the client."""
    sub, device = _member_with_passkey(app, client, factory)
    joining = invite(app, email="grace@example.com", client_id="shop", existing_account=True)
    started = _invited(client, shop, joining)
    html = html_lib.unescape(registration_page(client, started).get_data(as_text=True))
    assert 'id="join"' in html and 'autocomplete="username webauthn"' in html
    assert f"/interaction/{started.uid}/passkey?invite_id=" in form_action(html, "passkey-sign-in")
    response = _passkey_on(client, html, device)
    assert response.status_code == 303, response.data
    response = client.get(response.location)
    while "/interaction/" in (response.location or ""):
        response = client.get(response.location)
    assert response.location.startswith(shop.redirect_uri) and "code=" in response.location
    with app.app_context():
        stored = service.find(joining.id)
        assert stored.state == "accepted" and stored.accepted_sub == sub


def test_a_hosted_existing_account_invitation_accepts_with_a_passkey(app, client, factory):
    """Without a client: the passkey signs in at /login/passkey, back to the hosted
    page, which accepts and leads to the account page."""
    sub, device = _member_with_passkey(app, client, factory)
    joining = invite(app, email="grace@example.com", existing_account=True)
    page = client.get(f"/register?invite_id={joining.token}")
    html = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and 'id="passkey-sign-in"' in html
    response = _passkey_on(client, html, device)
    assert response.status_code == 303 and "/register?invite_id=" in response.location
    response = client.get(response.location)
    assert response.status_code == 303 and response.location.endswith("/account")
    with app.app_context():
        assert service.find(joining.id).accepted_sub == sub
