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
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.accounts.service import create_account
from app.clients.service import create_client
from app.extensions import db
from app.oauth import keys
from tests.helpers import PASSWORD, AccountInfo

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


@dataclass
class LiveVestibule:
    """A running server and the person who can sign in to it."""

    issuer: str
    person: AccountInfo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(app, issuer: str) -> AccountInfo:
    """The playground client as ``vestibule seed`` registers it, and one account."""
    with app.app_context():
        db.create_all()
        keys.ensure_signing_key()
        create_client(
            "Vestibule Playground",
            [f"{issuer}/playground/callback"],
            client_id=app.config["PLAYGROUND_CLIENT_ID"],
            secret=PLAYGROUND_SECRET,
            first_party=True,
            post_logout_redirect_uris=[f"{issuer}/playground/"],
            initiate_login_uri=f"{issuer}/playground/login",
            allow_http=True,
        )
        account = create_account(
            "grace@example.com",
            PASSWORD,
            given_name="Grace",
            family_name="Hopper",
            email_verified=True,
        )
        return AccountInfo(account.sub, account.email, PASSWORD)


@pytest.fixture(scope="module")
def live_vestibule(tmp_path_factory) -> Iterator[LiveVestibule]:
    """Vestibule on 127.0.0.1:<free port>, threaded so the playground can call it back."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("e2e") / "vestibule.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        ISSUER=issuer,
        PLAYGROUND_ENABLED=True,
        PLAYGROUND_CLIENT_SECRET=PLAYGROUND_SECRET,
    )
    person = _seed(app, issuer)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="vestibule-e2e", daemon=True)
    thread.start()
    try:
        yield LiveVestibule(issuer, person)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
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
