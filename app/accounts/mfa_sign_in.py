"""A sign-in between its password and its second factor (issue 16).

A correct password that still needs a second factor starts no browser session: the
account, the methods so far and the paused request it is for are kept in the signed
session cookie of this browser, so the person counts as signed in nowhere until the
code is given. Then ``complete`` starts the session with both methods in its ``amr``.
What is kept stops working after ``SECOND_FACTOR_STEP_LIFETIME`` seconds, when the
browser signs in or out, when the account is disabled, and when its password changes.

A session signed in with a password alone (for a client that asked no more) gains a
second factor in place with ``strengthen`` when a page or a client needs one.

Like app/accounts/sessions.py this is the browser's side of a sign-in, so it reads the
Flask session; it never reads the request otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, session

from app import events
from app.accounts.mfa_policy import PASSWORD, with_second_factor
from app.accounts.sessions import PENDING_SIGN_IN, end_session, start_session
from app.crypto import hash_secret
from app.extensions import db
from app.models import Account, BrowserSession


@dataclass(frozen=True)
class PendingSignIn:
    """A password given on this browser, waiting for the second factor."""

    account: Account
    amr: list[str]
    #: The paused authorization request it is for; None for the standalone sign-in.
    uid: str | None


def hold(account: Account, uid: str | None, amr: list[str] | None = None) -> None:
    """Keep ``account``'s correct password until its second factor; whoever was signed
    in on this browser is signed out (as a finished sign-in would do)."""
    end_session()
    session[PENDING_SIGN_IN] = {
        "account": account.id,
        "amr": amr or [PASSWORD],
        "uid": uid,
        "at": int(time.time()),
        "password": _password_mark(account),
    }


def pending(uid: str | None) -> PendingSignIn | None:
    """The sign-in waiting on this browser for the request ``uid`` (None: the
    standalone sign-in), if it is still good."""
    kept = session.get(PENDING_SIGN_IN)
    if not isinstance(kept, dict) or kept.get("uid") != uid:
        return None
    age = time.time() - float(kept.get("at") or 0)
    if not 0 <= age <= current_app.config["SECOND_FACTOR_STEP_LIFETIME"]:
        return None
    account = db.session.get(Account, kept.get("account"))
    if account is None or account.disabled or kept.get("password") != _password_mark(account):
        return None
    return PendingSignIn(account, list(kept.get("amr") or [PASSWORD]), uid)


def complete(held: PendingSignIn) -> BrowserSession:
    """The second factor was given: sign the person in, with both methods in ``amr``."""
    events.record("user.login", f"account:{held.account.sub}", sub=held.account.sub)
    return start_session(held.account, amr=with_second_factor(held.amr))


def strengthen(browser: BrowserSession) -> None:
    """The person of a password-only session gave a second factor: say so in its
    ``amr`` (``auth_time`` stays the password's)."""
    browser.amr = with_second_factor(browser.amr)
    db.session.commit()


def forget() -> None:
    """Drop the sign-in waiting on this browser (the person chose another account)."""
    session.pop(PENDING_SIGN_IN, None)


def _password_mark(account: Account) -> str:
    """Changes when the password does: a new password ends a waiting sign-in."""
    return hash_secret(f"pending:{account.password_hash or ''}")[:16]
