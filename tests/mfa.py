"""Helpers for the second-factor tests (issue 16): codes computed with pyotp from the
enrolled secret at the test's clock, and the pages' steps."""

from __future__ import annotations

import html
import re
import time

import pyotp
from sqlalchemy import select

from app.accounts import totp
from app.accounts.service import find
from app.crypto import unseal
from app.extensions import db
from app.models.factors import TotpFactor
from tests.helpers import csrf_token

#: A step of RFC 6238's clock.
STEP = 30


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` steps later)."""
    return pyotp.TOTP(secret).at(time.time() + STEP * steps_ahead)


def enrol(app, sub: str) -> tuple[str, list[str]]:
    """Set up an authenticator for ``sub`` through the service; (secret, recovery codes)."""
    with app.app_context():
        account = find(sub)
        started = totp.begin(account)
        codes = totp.confirm(account, started.sealed, code_for(started.secret))
        return started.secret, codes


def stored_secret(app, sub: str) -> str | None:
    """The secret of ``sub``'s stored authenticator, unsealed (None before one is
    confirmed: a set-up in progress is stored nowhere)."""
    with app.app_context():
        row = db.session.scalar(select(TotpFactor).where(TotpFactor.account_id == find(sub).id))
        return None if row is None else unseal(row.sealed_secret, totp.SEAL_PURPOSE)


def shown_secret(page_html: str) -> str:
    """The secret a set-up page shows as text (grouped by four), without the spaces."""
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page_html)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def shown_recovery_codes(page_html: str) -> list[str]:
    """The recovery codes a page shows."""
    block = re.search(r'<ul class="recovery-codes"[^>]*>(.*?)</ul>', page_html, re.S)
    assert block, "no recovery codes on the page"
    return re.findall(r"<code>([a-z0-9-]+)</code>", block.group(1))


def form_action_of(page_html: str, fragment: str) -> str:
    """The action of the first form whose action contains ``fragment``."""
    for action in re.findall(r'<form[^>]*action="([^"]+)"', page_html):
        if fragment in html.unescape(action):
            return html.unescape(action)
    raise AssertionError(f"no form posting to {fragment!r}")


def post_code(browser, page, code: str, fragment: str = "second-factor"):
    """Submit the code form of ``page`` (a response) with ``code``."""
    text = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(text), "code": code}
    return browser.post(form_action_of(text, fragment), data=data)
