"""Invitation URLs: the client's initiate_login_uri with the invitation appended,
and the short link on Vestibule's own host (spec §2.2)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app

from app.models import Invitation


def landing_url(invitation: Invitation, token: str) -> str:
    """Where the invitation lands: the client's login route, or hosted registration."""
    if invitation.client is not None and invitation.client.initiate_login_uri:
        base = invitation.client.initiate_login_uri
    else:
        base = f"{current_app.config['ISSUER']}/register"
    return append_query(base, [("invite_id", token), ("view_type", "register")])


def redirect_allowed(url: str) -> bool:
    """Whether ``url`` is under a prefix of ``INVITATION_REDIRECT_ALLOWLIST``.

    A prefix matches whole path segments only: ``https://app.example`` allows
    ``https://app.example/welcome`` but not ``https://app.example.evil.test/``.
    The URL is compared as a browser will follow it: dot segments resolved (so
    ``/app/../other`` is ``/other``); backslashes and control characters, which
    browsers rewrite or drop, are refused.
    """
    if len(url) > 2048 or any(c == "\\" or ord(c) < 0x21 or c == "\x7f" for c in url):
        return False
    parts = urlsplit(url)
    url = urlunsplit(parts._replace(path=without_dot_segments(parts.path)))
    for prefix in current_app.config["INVITATION_REDIRECT_ALLOWLIST"]:
        rest = url[len(prefix) :] if url.startswith(prefix) else None
        if rest is not None and (prefix.endswith("/") or rest == "" or rest[0] in "/?#"):
            return True
    return False


def without_dot_segments(path: str) -> str:
    """``path`` with ``.`` and ``..`` segments resolved (RFC 3986 §5.2.4), reading
    ``%2e`` as a dot as browsers do."""
    segments = re.sub("%2e", ".", path, flags=re.IGNORECASE).split("/")
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # "/a/b/.." is the folder "/a/"
    return "/".join(kept)


def short_url(token: str) -> str:
    """The short link ``/i/<token>`` that redirects to the landing URL."""
    return f"{current_app.config['ISSUER']}/i/{token}"


def append_query(url: str, params: list[tuple[str, str]]) -> str:
    """``url`` with ``params`` added after its existing query (which is kept as is)."""
    parts = urlsplit(url)
    existing = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in {name for name, _ in params}
    ]
    return urlunsplit(parts._replace(query=urlencode(existing + params)))
