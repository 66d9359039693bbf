"""Passkeys as deployed (issue 16): gunicorn serving TLS itself with two workers,
``VESTIBULE_ENV=production`` (secure cookies), PostgreSQL and Redis, walked in Chromium
with a virtual authenticator: a person adds a passkey on the account page, then signs
in with it at the playground, whose ID token says ``amr`` hwk.

WebAuthn needs a host name (never an IP address) and a certificate Chromium accepts
without an error: this installation's issuer is ``https://localhost:<port>`` and
Chromium trusts the server's key by its SPKI pin (``--ignore-certificate-errors-spki-
list``), where the other walks only ignore certificate errors.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from contextlib import ExitStack
from urllib.error import URLError

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import postgres_url_or_skip, private_schema
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.production.conftest import WAIT_MS
from tests.production.deployment import (
    BIN,
    STARTUP_TIMEOUT,
    environment,
    forget_rate_limits,
    gunicorn_argv,
    process,
    redis_or_skip,
    run_cli,
    seed,
)
from tests.production.https_client import HttpsClient

pytestmark = pytest.mark.browser

#: Makes the page believe the browser has no conditional UI, so the walk uses the button.
NO_CONDITIONAL_UI = (
    "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);"
)


def _spki_pin(certificate_pem: bytes) -> str:
    """The base64 SHA-256 of the certificate's public key, as Chromium's flag wants it."""
    key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def _wait_until_serving(issuer: str, tls_files, gunicorn, log) -> None:
    client = HttpsClient(issuer, tls_files.ca)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert gunicorn.poll() is None, log.read_text()
        try:
            if client.get("/.well-known/openid-configuration").status == 200:
                return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"{issuer} did not answer in time:\n{log.read_text()}")


@pytest.fixture(scope="module")
def localhost_deployment(tls_files, mail_server, relying_party, workdir):
    """An installation of its own for ``https://localhost:<port>`` (a private schema,
    migrated and seeded with the CLI), served by gunicorn over TLS; the issuer and the
    person who signs in."""
    base_url = postgres_url_or_skip()
    redis_or_skip()
    assert (BIN / "gunicorn").exists()
    with private_schema(base_url, "vestibule_passkeys") as database_url, ExitStack() as stack:
        port = free_port()
        issuer = f"https://localhost:{port}"
        env = environment(issuer, database_url, mail_server.port)
        run_cli(env, "db", "upgrade")
        seeded = seed(env, issuer, relying_party)
        prefix = f"vestibule-test-{secrets.token_hex(6)}"
        env |= {
            "PLAYGROUND_ENABLED": "1",
            "PLAYGROUND_CLIENT_SECRET": seeded.playground_secret,
            "SSL_CERT_FILE": str(tls_files.ca),
            "RATELIMIT_KEY_PREFIX": prefix,
            "PROXY_FIX_HOPS": "0",
        }
        stack.callback(forget_rate_limits, prefix)
        log = workdir / "passkeys-gunicorn.log"
        gunicorn = stack.enter_context(process(gunicorn_argv(port, tls_files), env, log))
        _wait_until_serving(issuer, tls_files, gunicorn, log)
        yield issuer, seeded.person


@pytest.fixture
def pinned_page(chromium, tls_files):
    """A page of a Chromium that trusts the server's key, with a virtual authenticator."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pin = f"--ignore-certificate-errors-spki-list={_spki_pin(tls_files.cert.read_bytes())}"
    browser = chromium.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, pin]
    )
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    page.add_init_script(NO_CONDITIONAL_UI)
    yield page
    context.close()
    browser.close()


def test_passkey_added_then_used_at_the_playground_over_tls(
    pinned_page, localhost_deployment, screenshots
):
    """Password sign-in → add a passkey → a new browser session signs in at the
    playground with the passkey alone → ID token amr hwk; no error page on the way."""
    from playwright.sync_api import expect

    page = pinned_page
    issuer, person = localhost_deployment
    errors: list[str] = []
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(f"{issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{issuer}/account")
    page.fill("#passkey-name", "Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Your passkey is added.")).to_be_visible()
    cookies = page.context.cookies()
    assert all(c["secure"] for c in cookies if c["name"] == "vestibule_session")

    page.context.clear_cookies()
    page.goto(f"{issuer}/playground/login")
    page.wait_for_url(re.compile(re.escape(issuer) + r"/interaction/"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{issuer}/playground/")
    claims = dict(
        zip(
            page.locator("#id-token-claims > dt").all_inner_texts(),
            page.locator("#id-token-claims > dd").all_inner_texts(),
            strict=True,
        )
    )
    assert claims["email"] == person.email
    assert "hwk" in claims["amr"]
    page.screenshot(path=screenshots / "passkeys-tls-playground.png", full_page=True)
    assert [e for e in errors if "favicon" not in e] == []
