"""The admin API's documentation page /api/v1/docs: Swagger UI from the wheel's assets,
under a CSP relaxed for that page only."""

from __future__ import annotations

import json
import re

import pytest

from app.api.docs import SWAGGER_UI_DIST


def references(html: str) -> list[str]:
    """Every URL the page loads: scripts, stylesheets, icons."""
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_page_loads_only_assets_of_this_server(client):
    """The page references the spec and Swagger UI's files by path on this server (no
    CDN, no other host), and each of them is served."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    urls = references(html)
    assert "/static/api-docs.js" in urls
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        with client.get(url) as asset:
            assert asset.status_code == 200, url


def test_docs_assets_are_the_wheels_files(client):
    """Swagger UI's files come byte for byte from the flask-swagger-ui distribution."""
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/api/v1/docs/assets/{name}") as response:
            assert response.data == (SWAGGER_UI_DIST / name).read_bytes()


@pytest.mark.parametrize(
    "name", ["LICENSE", "index.css", "oauth2-redirect.html", "..%2F__init__.py", "missing.js"]
)
def test_docs_serve_no_other_file(client, name):
    """Only the files the page loads are served; anything else there is a 404."""
    assert client.get(f"/api/v1/docs/assets/{name}").status_code == 404


def test_docs_csp_allows_own_scripts_only_on_that_page(client):
    """The docs page may run scripts and fetch from this origin, nothing inline or
    evaluated; every other page keeps the strict CSP without scripts."""
    csp = client.get("/api/v1/docs").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp
    # (pages with passkeys run app/static/passkeys.js: tests/web/test_passkey_pages.py)
    for path in ("/signed-out", "/api/v1/openapi.json", "/playground/"):
        other = client.get(path).headers["Content-Security-Policy"]
        assert "script-src" not in other and "connect-src" not in other, path


def test_documented_operations_cite_no_spec_section(client):
    """The spec the page shows describes behaviour; no text points at a "spec §"."""
    spec = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert len(spec) > 10_000
    assert "§" not in json.loads(spec).__repr__()
