"""The admin API's interactive documentation at /api/v1/docs, in Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_every_operation_from_local_assets_without_csp_violation(
    page, live_vestibule, artifacts
):
    """Swagger UI renders the spec's operations, loading every asset from Vestibule
    itself, and the page's CSP (scripts from this origin, no inline script) reports
    no violation."""
    issuer = live_vestibule.issuer
    origins: set[str] = set()
    problems: list[str] = []
    page.on("request", lambda request: origins.add(_origin(request.url)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )

    page.goto(f"{issuer}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)

    spec = page.request.get(f"{issuer}/api/v1/openapi.json").json()
    expected = sum(
        1
        for operations in spec["paths"].values()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )
    assert page.locator(".opblock").count() == expected
    assert page.locator(".opblock-summary-path", has_text="/api/v1/invitations").count() >= 1
    page.screenshot(path=str(artifacts / "api-docs.png"), full_page=False)
    assert origins == {_origin(issuer)}
    assert problems == []


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
