"""The account page and verified addresses in Chromium (issue 15, items 3 and 4):
self-service registration verified by the link a real SMTP server (aiosmtpd) received,
a password change signing another browser out, an application's access taken away
(its refresh token then fails), and an account deleted.

The server here has open sign-up, REQUIRE_VERIFIED_EMAIL on and SMTP delivery to a
sink in this process; the test runs the outbox worker itself where a mail is due.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import Request, urlopen

import pytest
from flask import Flask

from app import create_app
from app.accounts.service import create_account
from app.clients.service import create_client
from app.extensions import db
from app.outbox.worker import Worker
from tests.e2e.conftest import _seed, free_port, serving, sign_in_page
from tests.helpers import PASSWORD, AccountInfo, ClientInfo, pkce_pair
from tests.messages.conftest import Received, SmtpSink

pytestmark = pytest.mark.browser

PARTNER_ID, PARTNER_SECRET = "e2e-partner", "e2e-partner-secret"
NEW_PASSWORD = "a brand new passphrase"


@dataclass
class Server:
    """Vestibule listening on a port, its app (to run the outbox worker) and its mail."""

    issuer: str
    app: Flask
    mail: SmtpSink
    partner: ClientInfo

    def deliver(self) -> None:
        """Send what the outbox holds (the SMTP sink has it when this returns)."""
        with self.app.app_context():
            Worker(name="e2e").run_once()

    def mail_to(self, address: str) -> Received:
        """The newest message the SMTP server accepted for ``address``."""
        received = [m for m in self.mail.messages if address in m.rcpt_tos]
        assert received, f"no email to {address}"
        return received[-1]

    def person(self, email: str) -> AccountInfo:
        """A new account with a verified email and the test password."""
        with self.app.app_context():
            account = create_account(email, PASSWORD, given_name="Kay", email_verified=True)
            return AccountInfo(account.sub, account.email, PASSWORD)

    def post_form(self, path: str, form: dict, auth: ClientInfo) -> tuple[int, dict]:
        """POST a form to the server as ``auth`` (client_secret_basic); status and JSON."""
        request = Request(
            self.issuer + path, data=urlencode(form).encode(), headers=auth.basic_auth()
        )
        try:
            with urlopen(request, timeout=10) as answer:  # noqa: S310 - our own test server
                return answer.status, json.loads(answer.read())
        except HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium) -> Iterator[Server]:
    """Vestibule with open sign-up, REQUIRE_VERIFIED_EMAIL and an SMTP sink; a
    third-party client whose redirect URI is the playground's code page."""
    port, sink = free_port(), SmtpSink(free_port())
    issuer = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("e2e-account") / "vestibule.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        ISSUER=issuer,
        PLAYGROUND_ENABLED=True,
        PLAYGROUND_CLIENT_SECRET="e2e-playground-secret",
        SIGNUP_MODE="public",
        REQUIRE_VERIFIED_EMAIL=True,
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        MAIL_SECURITY="none",
        MAIL_FROM="Vestibule <no-reply@vestibule.test>",
    )
    _seed(app, issuer)
    with app.app_context():
        create_client(
            "Partner",
            [f"{issuer}/playground/code"],
            client_id=PARTNER_ID,
            secret=PARTNER_SECRET,
            first_party=False,
            scope="openid email offline_access",
            allow_http=True,
        )
    partner = ClientInfo(PARTNER_ID, PARTNER_SECRET, f"{issuer}/playground/code")
    sink.start()
    try:
        with serving(app, port):
            yield Server(issuer, app, sink, partner)
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()


def test_self_service_registration_is_verified_by_the_emailed_link(page, server, artifacts):
    """Register from the playground; the request waits at "check your email"; the link
    from the real email, opened in the same browser, leads on to the playground, whose
    ID token says the email is verified."""
    from playwright.sync_api import expect

    issuer = server.issuer
    page.goto(f"{issuer}/playground/login?view_type=register")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    page.fill("#email", "zoe@example.com")
    page.fill("#given_name", "Zoe")
    page.fill("#password", NEW_PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("zoe@example.com")).to_be_visible()
    page.screenshot(path=artifacts / "account-1-check-your-email.png", full_page=True)

    server.deliver()
    mail = server.mail_to("zoe@example.com")
    link = re.search(re.escape(issuer) + r"/verify/email/\S+", mail.part("plain")).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email address").click()
    page.wait_for_url(f"{issuer}/playground/")
    claims = page.locator("#id-token-claims")
    expect(claims).to_contain_text("zoe@example.com")
    expect(claims).to_contain_text("email_verified")
    assert re.search(r"email_verified\s*true", claims.inner_text())
    page.screenshot(path=artifacts / "account-2-verified-at-playground.png", full_page=True)


def test_a_password_change_signs_the_other_browser_out(chromium, page, server, artifacts):
    """Two browsers signed in; changing the password in one signs the other out, and
    the new password signs in."""
    from playwright.sync_api import expect

    person = server.person("max@example.com")
    sign_in_page(page, server, person)
    other = chromium.new_context()
    try:
        other_page = other.new_page()
        sign_in_page(other_page, server, person)

        page.fill("#current-password", PASSWORD)
        page.fill("#new-password", NEW_PASSWORD)
        page.get_by_role("button", name="Change the password").click()
        expect(page.get_by_text("Your password is changed")).to_be_visible()
        page.screenshot(path=artifacts / "account-3-password-changed.png", full_page=True)

        other_page.goto(f"{server.issuer}/account")
        other_page.wait_for_url(f"{server.issuer}/login")
        sign_in_page(other_page, server, AccountInfo(person.sub, person.email, NEW_PASSWORD))
    finally:
        other.close()


def _partner_tokens(page, server: Server) -> dict:
    """A code flow of the third-party client in the browser (consent allowed), the code
    redeemed over HTTP; the token response."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": PARTNER_ID,
        "redirect_uri": server.partner.redirect_uri,
        "scope": "openid email offline_access",
        "state": "partner-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{server.issuer}/authorize?{urlencode(params)}")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(server.partner.redirect_uri)))
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": server.partner.redirect_uri,
        "code_verifier": verifier,
    }
    status, body = server.post_form("/token", form, server.partner)
    assert status == 200, body
    return body


def test_taking_access_away_makes_the_refresh_token_fail(page, server, artifacts):
    """An application let in shows on the account page with its scopes; taking its
    access away makes its refresh token fail with invalid_grant."""
    from playwright.sync_api import expect

    person = server.person("ivo@example.com")
    sign_in_page(page, server, person)
    tokens = _partner_tokens(page, server)

    page.goto(f"{server.issuer}/account#applications")
    applications = page.locator("#applications")
    expect(applications).to_contain_text("Partner")
    expect(applications).to_contain_text("Your email address")
    page.screenshot(path=artifacts / "account-4-applications.png", full_page=True)
    page.get_by_role("button", name="Take access away from Partner").click()
    expect(page.get_by_text("Partner no longer has access to your account.")).to_be_visible()

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, body = server.post_form("/token", refresh, server.partner)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_deleting_the_account(page, server, artifacts):
    """Delete with the password: the account is gone and its password opens nothing."""
    from playwright.sync_api import expect

    person = server.person("del@example.com")
    sign_in_page(page, server, person)
    page.get_by_role("link", name="Delete your account").click()
    page.wait_for_url(f"{server.issuer}/account/delete")
    page.fill("#delete-password", PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(f"{server.issuer}/account/deleted")
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    page.screenshot(path=artifacts / "account-5-deleted.png", full_page=True)

    page.goto(f"{server.issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
