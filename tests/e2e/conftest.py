"""Browser fixtures: Vestibule served over real HTTP in a background thread, on its
own SQLite file, and Debian's Chromium driven by Playwright.

These fixtures do not use the parametrised ``app`` fixture of tests/conftest.py: a
browser journey runs once, on SQLite, against a server listening on a real port.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.accounts.service import create_account
from app.clients.service import create_client
from app.extensions import db
from app.oauth import keys
from app.seed import PLAYGROUND_SCOPE
from tests.helpers import PASSWORD, AccountInfo, ClientInfo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Screenshots land here (git-ignored) for a person to look at after a run.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PLAYGROUND_SECRET = "e2e-playground-secret"
#: A machine client of the admin API (client_credentials), as a back office would be.
BACK_OFFICE_ID = "e2e-back-office"
BACK_OFFICE_SECRET = "e2e-back-office-secret"
BACK_OFFICE_SCOPE = "invitations:read invitations:write users:read users:write"
BACK_OFFICE_REDIRECT_URI = "https://backoffice.example/cb"


@dataclass
class LiveVestibule:
    """A running server, the people who can sign in to it, and an admin API client."""

    issuer: str
    person: AccountInfo
    back_office: ClientInfo
    #: Holds the role ``admin`` (every dashboard page).
    admin: AccountInfo
    #: Holds only ``user_invite`` (invitations, nothing else).
    inviter: AccountInfo


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: Flask, port: int) -> Iterator[None]:
    """Serve ``app`` on 127.0.0.1:``port`` from a background thread (one thread per
    request) until the block ends; the server is always stopped and its socket closed."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"vestibule-{port}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _seed(app, issuer: str) -> tuple[AccountInfo, ClientInfo, AccountInfo, AccountInfo]:
    """The playground client as ``vestibule seed`` registers it, one account, a
    back-office client allowed to manage invitations and groups, an administrator and
    a person who may only invite."""
    with app.app_context():
        db.create_all()
        keys.ensure_signing_key()
        create_client(
            "Vestibule Playground",
            [f"{issuer}/playground/callback"],
            client_id=app.config["PLAYGROUND_CLIENT_ID"],
            secret=PLAYGROUND_SECRET,
            first_party=True,
            scope=PLAYGROUND_SCOPE,
            post_logout_redirect_uris=[f"{issuer}/playground/"],
            initiate_login_uri=f"{issuer}/playground/login",
            mfa="optional",
            allow_http=True,
        )
        create_client(
            "E2E back office",
            [BACK_OFFICE_REDIRECT_URI],
            client_id=BACK_OFFICE_ID,
            secret=BACK_OFFICE_SECRET,
            grant_types=["client_credentials"],
            scope=BACK_OFFICE_SCOPE,
        )
        account = create_account(
            "grace@example.com",
            PASSWORD,
            given_name="Grace",
            family_name="Hopper",
            email_verified=True,
        )
        person = AccountInfo(account.sub, account.email, PASSWORD)
        staff = [
            create_account("ada.admin@example.com", PASSWORD, roles=["admin"], given_name="Ada"),
            create_account("ivy@example.com", PASSWORD, roles=["user_invite"], given_name="Ivy"),
        ]
        admin, inviter = (AccountInfo(a.sub, a.email, PASSWORD) for a in staff)
        back_office = ClientInfo(BACK_OFFICE_ID, BACK_OFFICE_SECRET, BACK_OFFICE_REDIRECT_URI)
        return person, back_office, admin, inviter


@pytest.fixture(scope="module")
def live_vestibule(tmp_path_factory) -> Iterator[LiveVestibule]:
    """Vestibule on 127.0.0.1:<free port>, threaded so the playground can call it back."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("e2e") / "vestibule.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        ISSUER=issuer,
        PLAYGROUND_ENABLED=True,
        PLAYGROUND_CLIENT_SECRET=PLAYGROUND_SECRET,
    )
    person, back_office, admin, inviter = _seed(app, issuer)
    try:
        with serving(app, port):
            yield LiveVestibule(issuer, person, back_office, admin, inviter)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright; a skip (or with REQUIRE_BROWSER=1, a failure)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context (empty cookie jar) and one page in it."""
    context = chromium.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The directory screenshots are saved to."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in_page(page, live: LiveVestibule, person: AccountInfo) -> None:
    """Sign ``person`` in on ``page`` through the sign-in form at /login."""
    page.goto(f"{live.issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.issuer}/account")
