"""Browser sign-in sessions: the cookie holds an opaque id, the database decides.

This module is the browser's side of a session, so it reads the request: the cookie,
and at sign-in the User-Agent and client address the account page shows (issue 15).
``last_seen_at`` is written at most once per ``LAST_SEEN_STEP``, so a signed-in
request costs no extra statement in the steady state.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.crypto import hash_secret, new_secret
from app.extensions import db
from app.models import Account, BrowserSession, utcnow

_SID = "sid"
_BROWSER = "browser"
#: A password that still waits for its second factor (app/accounts/mfa_sign_in.py):
#: forgotten when this browser signs in or out.
PENDING_SIGN_IN = "pending_sign_in"
#: How stale ``last_seen_at`` may get before a request writes it again.
LAST_SEEN_STEP = timedelta(minutes=1)


def start_session(account: Account, amr: list[str] | None = None) -> BrowserSession:
    """Sign ``account`` in on this browser, replacing any earlier session; ``amr`` says
    how the person proved who they are (null: a password)."""
    end_session()
    _renew_secrets()
    secret = new_secret()
    now = utcnow()
    row = BrowserSession(
        sid_hash=hash_secret(secret),
        public_sid=new_secret(16),
        account=account,
        auth_time=now,
        expires_at=now + timedelta(seconds=current_app.config["BROWSER_SESSION_LIFETIME"]),
        user_agent=request.user_agent.string[:256] or None,
        ip_address=(request.remote_addr or "")[:64] or None,
        last_seen_at=now,
        amr=amr,
    )
    db.session.add(row)
    db.session.commit()
    session[_SID] = secret
    return row


def _renew_secrets() -> None:
    """Forget the CSRF secret this browser held before signing in (session fixation:
    a token planted or read before the sign-in stops working). The browser-binding
    secret stays on purpose: it authenticates nobody, and a form sent twice (double
    click, back button) must still find its paused request from the older cookie."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    session.pop(field, None)
    g.pop(field, None)  # Flask-WTF's per-request copy of the token


def current_session() -> BrowserSession | None:
    """The active sign-in session of this browser, if any."""
    secret = session.get(_SID)
    if not isinstance(secret, str):
        return None
    row = db.session.scalar(
        select(BrowserSession)
        .where(BrowserSession.sid_hash == hash_secret(secret))
        .options(joinedload(BrowserSession.account))
    )
    if row is None or not row.is_active():
        return None
    _note_seen(row)
    return row


def _note_seen(row: BrowserSession) -> None:
    """Record that the session is in use, once per LAST_SEEN_STEP: one small write a
    minute at most (the commit makes the next attribute reads load the row again)."""
    now = utcnow()
    if row.last_seen_at is not None and now - row.last_seen_at < LAST_SEEN_STEP:
        return
    row.last_seen_at = now
    db.session.commit()


def current_account() -> Account | None:
    """The signed-in account of this browser, if any."""
    row = current_session()
    return row.account if row else None


def end_session() -> None:
    """Sign this browser out: the session row ends, the cookie is cleared."""
    row = current_session()
    if row is not None:
        row.ended_at = utcnow()
        db.session.commit()
    session.pop(_SID, None)
    session.pop(PENDING_SIGN_IN, None)


def browser_secret() -> str:
    """A per-browser secret that binds paused authorization requests to this browser."""
    value = session.get(_BROWSER)
    if not isinstance(value, str):
        value = new_secret()
        session[_BROWSER] = value
    return value
