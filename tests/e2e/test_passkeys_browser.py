"""Passkeys in a real browser (issue 16): Chromium with a CDP virtual authenticator
(a software passkey with user verification) registers from an invitation with a
passkey and lands signed in at the playground, signs out, signs in again with the
passkey, uses it for prompt=login, and manages it on the account page.

WebAuthn refuses an IP address as relying-party id, so this server's ISSUER is
http://localhost:<port> (a secure context for Chromium, like 127.0.0.1).
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from app import create_app
from app.clients.service import create_client
from app.extensions import db
from app.models import BrowserSession
from app.models.factors import Passkey
from tests.e2e.conftest import PLAYGROUND_SECRET, _seed, free_port, serving
from tests.helpers import PASSWORD, invite, pkce_pair

INVITEE = "mae@example.com"
SPA_ID = "e2e-spa"
#: Makes the page believe the browser has no conditional UI (the button path).
NO_CONDITIONAL_UI = (
    "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);"
)


class PasskeyServer:
    """A live server on localhost and its app (to read what was stored)."""

    def __init__(self, app, issuer: str):
        self.app, self.issuer = app, issuer

    def rows(self, model, **where) -> list:
        with self.app.app_context():
            query = select(model).filter_by(**where)
            rows = list(db.session.scalars(query))
            db.session.expunge_all()
            return rows


@pytest.fixture(scope="module")
def passkey_server(tmp_path_factory):
    """Vestibule on localhost:<free port> with the playground and a public client."""
    port = free_port()
    issuer = f"http://localhost:{port}"
    database = tmp_path_factory.mktemp("e2e-passkeys") / "vestibule.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        ISSUER=issuer,
        PLAYGROUND_ENABLED=True,
        PLAYGROUND_CLIENT_SECRET=PLAYGROUND_SECRET,
    )
    _seed(app, issuer)
    with app.app_context():
        create_client(
            "E2E single-page app",
            [f"{issuer}/signed-out"],
            client_id=SPA_ID,
            public=True,
            first_party=True,
            allow_http=True,
        )
    try:
        with serving(app, port):
            yield PasskeyServer(app, issuer)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def authenticator_page(chromium):
    """A fresh context whose page has a virtual platform authenticator (resident keys,
    user verification that always succeeds)."""
    context = chromium.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    page.authenticator = (cdp, added["authenticatorId"])
    yield page
    context.close()


def _claims(page) -> dict[str, str]:
    names = page.locator("#id-token-claims > dt").all_inner_texts()
    values = page.locator("#id-token-claims > dd").all_inner_texts()
    return dict(zip(names, values, strict=True))


def _csp_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


def _id_token_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _credentials(page) -> list[dict]:
    cdp, authenticator_id = page.authenticator
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


@pytest.mark.browser
def test_passkey_from_invitation_to_prompt_login(authenticator_page, passkey_server, artifacts):
    """Invitation → "Create account with a passkey" → signed in at the playground with
    amr hwk → sign out → sign in with the passkey → prompt=login answered by it."""
    from playwright.sync_api import expect

    page, server, issuer = authenticator_page, passkey_server, passkey_server.issuer
    problems = _csp_violations(page)
    invitation = invite(server.app, email=INVITEE, given_name="Mae", client_id="demo-confidential")
    token = invitation.token
    page.goto(f"{issuer}/playground/login?invite_id={token}&view_type=register")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    expect(page.locator("#email")).to_have_value(INVITEE)
    button = page.get_by_role("button", name="Create account with a passkey")
    expect(button).to_be_visible()
    page.screenshot(path=artifacts / "passkeys-1-register.png", full_page=True)
    button.click()

    page.wait_for_url(f"{issuer}/playground/")
    claims = _claims(page)
    assert claims["email"] == INVITEE
    assert "hwk" in claims["amr"]
    page.screenshot(path=artifacts / "passkeys-2-playground.png", full_page=True)
    (stored,) = server.rows(Passkey)
    assert stored.backup_eligible is False and stored.sign_count >= 0
    (credential,) = _credentials(page)
    assert credential["isResidentCredential"] is True
    assert stored.credential_id == credential["credentialId"].rstrip("=").replace("+", "-").replace(
        "/", "_"
    )
    (session_row,) = server.rows(BrowserSession, ended_at=None)
    assert session_row.amr == ["hwk"]

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/playground/?state=")))

    # Conditional UI: the email field offers the passkey; Chromium's virtual
    # authenticator picks it by itself, so the page signs in without a click.
    page.goto(f"{issuer}/login")
    page.wait_for_url(f"{issuer}/account")
    expect(page.locator("#passkeys")).to_contain_text("kept on one device")
    page.screenshot(path=artifacts / "passkeys-3-account.png", full_page=True)

    # A browser without conditional UI: the button.
    page.add_init_script(NO_CONDITIONAL_UI)

    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": SPA_ID,
        "redirect_uri": f"{issuer}/signed-out",
        "scope": "openid email",
        "state": "step-up",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "login",
    }
    page.goto(f"{issuer}/authorize?{urlencode(query)}")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    expect(page.locator("#password")).to_be_visible()  # signed in, but asked again
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/signed-out?")))
    returned = parse_qs(urlsplit(page.url).query)
    assert returned["state"] == ["step-up"]
    answer = page.request.post(
        f"{issuer}/token",
        form={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": f"{issuer}/signed-out",
            "client_id": SPA_ID,
            "code_verifier": verifier,
        },
    )
    assert answer.status == 200, answer.text()
    id_token = _id_token_claims(answer.json()["id_token"])
    assert id_token["email"] == INVITEE
    assert id_token["amr"] == ["hwk"]
    (used,) = server.rows(Passkey)
    assert used.last_used_at is not None and used.sign_count >= stored.sign_count
    assert problems == []


@pytest.mark.browser
def test_account_page_adds_renames_and_removes_a_passkey(
    authenticator_page, passkey_server, artifacts
):
    """A password account adds a named passkey, renames it, signs in with it, and
    removes it; the passkey then no longer signs in."""
    from playwright.sync_api import expect

    page, server, issuer = authenticator_page, passkey_server, passkey_server.issuer
    problems = _csp_violations(page)
    page.add_init_script(NO_CONDITIONAL_UI)
    page.goto(f"{issuer}/login")
    expect(page.locator("#email")).to_have_attribute("autocomplete", "username webauthn")
    page.fill("#email", "grace@example.com")
    page.fill("#password", PASSWORD)
    page.click("form:not(#passkey-sign-in) button[type=submit]")
    page.wait_for_url(f"{issuer}/account")

    page.fill("#passkey-name", "Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(re.compile(re.escape(f"{issuer}/account")))
    expect(page.get_by_text("Your passkey is added.")).to_be_visible()
    expect(page.locator("#passkeys")).to_contain_text("Work laptop")
    (added,) = server.rows(Passkey, name="Work laptop")

    page.fill(f"#passkey-name-{added.id}", "Home laptop")
    page.locator(f"#passkey-name-{added.id} ~ button").click()
    expect(page.locator("#passkeys")).to_contain_text("Home laptop")
    page.screenshot(path=artifacts / "passkeys-4-renamed.png", full_page=True)

    page.context.clear_cookies()
    page.goto(f"{issuer}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{issuer}/account")
    expect(page.locator("h1")).to_contain_text("Grace")

    page.get_by_role("button", name="Remove this passkey").click()
    expect(page.get_by_text("The passkey is removed.")).to_be_visible()
    assert server.rows(Passkey, id=added.id) == []

    page.context.clear_cookies()
    page.goto(f"{issuer}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#passkey-error")).to_contain_text("not registered here")
    assert problems == []
