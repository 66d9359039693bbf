"""The production tier: Vestibule run as deployed (tests/production/deployment.py): one
installation (a PostgreSQL schema migrated and seeded with the CLI, one https issuer)
served first by gunicorn serving TLS itself, then by gunicorn behind a TLS-terminating
proxy, each time with its own Redis prefix and outbox worker sending mail to one SMTP
server in this process. Browser walks use Debian's Chromium and fail on any
error page.

Skips without PostgreSQL (TEST_DATABASE_URL), Redis or Chromium; fails instead under
REQUIRE_POSTGRES=1 (PostgreSQL, Redis) and REQUIRE_BROWSER=1 (Chromium), as in CI.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_url_or_skip, private_schema
from tests.e2e import conftest as e2e
from tests.messages.conftest import SmtpSink
from tests.production import certificates
from tests.production.deployment import (
    VARIANTS,
    Deployment,
    Installation,
    install,
    redis_or_skip,
    serve,
)
from tests.production.https_servers import relying_party_landing

# Debian's Chromium under Playwright, as the plain-http browser tests launch it.
chromium = e2e.chromium

#: Screenshots of each walk's end state, and of where a failed walk stopped
#: (git-ignored with test-artifacts/).
SCREENSHOTS = e2e.ARTIFACTS / "production"
#: Milliseconds a browser step may wait (a page, an element): ample for a loaded
#: machine, short enough that a walk stuck on an error page fails soon.
WAIT_MS = 15_000
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.fixture(scope="package")
def workdir() -> Iterator[Path]:
    """A private folder for certificates and process logs. Not pytest's tmp_path: a
    concurrent pytest run (several people share a machine) prunes older tmp_path
    folders, and the test CA must outlive every request."""
    with tempfile.TemporaryDirectory(prefix="vestibule-production-") as path:
        yield Path(path)


@pytest.fixture(scope="package")
def tls_files(workdir) -> certificates.TlsFiles:
    """The test CA and the server certificate for 127.0.0.1 / localhost."""
    return certificates.issue(workdir)


@pytest.fixture(scope="package")
def mail_server() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that the workers deliver to."""
    sink = SmtpSink(e2e.free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="package")
def relying_party(tls_files) -> Iterator[str]:
    """The base URL of the third-party relying party's pages (https, 200 to any GET)."""
    port = e2e.free_port()
    with relying_party_landing(port, tls_files):
        yield f"https://127.0.0.1:{port}"


@pytest.fixture(scope="package")
def installation(tls_files, mail_server, relying_party) -> Iterator[Installation]:
    """A private PostgreSQL schema, migrated and seeded with the CLI; dropped after."""
    base_url = postgres_url_or_skip()
    redis_or_skip()
    with private_schema(base_url, "vestibule_production") as database_url:
        yield install(database_url, mail_server.port, tls_files, relying_party)


@pytest.fixture(scope="package", params=VARIANTS)
def deployment(request, installation, tls_files, mail_server, workdir) -> Iterator[Deployment]:
    """The installation served one way at a time; its processes stopped after."""
    logs = workdir / request.param
    logs.mkdir()
    with serve(installation, request.param, tls_files, mail_server, logs) as running:
        yield running


@pytest.fixture(scope="package")
def screenshots() -> Path:
    """test-artifacts/production/, without the failure screenshots of earlier runs."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for stale in SCREENSHOTS.glob("*-FAILED-*.png"):
        stale.unlink()
    return SCREENSHOTS


@dataclass
class Walk:
    """One fresh browser context on the deployment, recording every navigation that
    ended in an error page (4xx or 5xx) or not at all."""

    deployment: Deployment
    screenshots: Path
    context: Any
    page: Any
    error_pages: list[str] = field(default_factory=list)

    def record(self, response) -> None:
        if response.request.is_navigation_request() and response.status >= 400:
            self.error_pages.append(f"{response.status} {response.request.method} {response.url}")

    def record_failure(self, request) -> None:
        if request.is_navigation_request():
            self.error_pages.append(f"failed ({request.failure}) {request.method} {request.url}")

    def screenshot(self, name: str) -> None:
        """Save the page as test-artifacts/production/<variant>-<name>.png."""
        path = self.screenshots / f"{self.deployment.variant}-{name}.png"
        self.page.screenshot(path=path, full_page=True)

    def finish(self, name: str) -> None:
        """Screenshot the end state; no page on the way may have been an error."""
        self.screenshot(name)
        assert self.error_pages == [], self.error_pages


@pytest.fixture
def walk(request, chromium, deployment, screenshots) -> Iterator[Walk]:
    """A browser context trusting the deployment (``ignore_https_errors``: the test CA
    is not in Chromium's store) with one page; closed after the test, a screenshot of
    where it stopped kept when the test failed."""
    from playwright.sync_api import Error as PlaywrightError

    context = chromium.new_context(ignore_https_errors=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    walk = Walk(deployment, screenshots, context, page)
    context.on("response", walk.record)
    context.on("requestfailed", walk.record_failure)
    yield walk
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is not None and report.failed:
        with contextlib.suppress(PlaywrightError):
            walk.screenshot("FAILED-" + re.sub(r"[^\w.-]+", "_", request.node.name))
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows the error pages seen and the processes' output."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    if report.failed:
        values = getattr(item, "funcargs", {})
        if (walk := values.get("walk")) is not None and walk.error_pages:
            report.sections.append(("error pages", "\n".join(walk.error_pages)))
        if (running := values.get("deployment")) is not None:
            report.sections.append((f"{running.variant} process output", running.log_tail()))
    return report
