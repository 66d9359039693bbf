"""A client-less invitation's redirect_url must sit under an allow-listed prefix,
matched on whole path segments (an open redirect otherwise)."""

from __future__ import annotations

import pytest

from app import create_app
from app.invitations.links import redirect_allowed


@pytest.fixture(scope="module")
def bare_app():
    return create_app(
        "testing",
        INVITATION_REDIRECT_ALLOWLIST=("https://app.example", "https://intranet.example/hr/"),
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example", True),
        ("https://app.example/", True),
        ("https://app.example/welcome?x=1", True),
        ("https://app.example?next=1", True),
        ("https://app.example#top", True),
        ("https://intranet.example/hr/start", True),
        ("https://app.example.evil.test/", False),
        ("https://app.examplex/", False),
        ("https://app.example@evil.test/", False),
        ("https://intranet.example/hrx", False),
        ("https://intranet.example/", False),
        ("http://app.example/", False),
        ("https://app.example/" + "x" * 2100, False),
        # Compared as the browser will follow it: dot segments resolved.
        ("https://intranet.example/hr/../admin", False),
        ("https://intranet.example/hr/%2e%2e/admin", False),
        ("https://intranet.example/hr/%2E%2E/%2e%2e/x", False),
        ("https://intranet.example/hr/./start", True),
        ("https://intranet.example/hr/a/../start", True),
        ("https://intranet.example/hr/..", False),
        ("https://intranet.example/hr\\..\\admin", False),
        ("https://intranet.example/hr/\t../admin", False),
    ],
)
def test_prefixes_match_whole_segments(bare_app, url, allowed):
    """A prefix allows whole path segments under it, after dot segments are resolved."""
    with bare_app.app_context():
        assert redirect_allowed(url) is allowed
