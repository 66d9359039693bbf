"""Changing what a person signs in with, on the account page (issue 15): the password
and the email. Both need the current password, checked like a sign-in (so the
per-address back-off of app/accounts/throttle.py counts these guesses too).

A new password ends every other browser session, every token and every unused link:
whoever knew the old password is out, except this browser. A new email is only asked
for here: it is sent a verification link and becomes the account's email when the
link is followed (app/accounts/verification.py); until then the old address stays
the one to sign in with and to receive password links, so a mistyped address locks
nobody out and a stolen session cannot move the account's mail elsewhere.
"""

from __future__ import annotations

from app import events
from app.accounts import throttle, verification
from app.accounts.authentication import authenticate
from app.accounts.errors import AccountError
from app.accounts.passwords import hash_password, verify_password
from app.accounts.revocation import end_sign_ins
from app.accounts.validation import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    normalise_email,
    refuse_taken,
)
from app.extensions import db
from app.models import Account, BrowserSession, utcnow


class WrongPassword(AccountError):
    """The current password typed is not the account's (400)."""

    def __init__(self):
        super().__init__("the current password is not right", field="current_password")


def check_password(account: Account, password: str) -> None:
    """WrongPassword unless ``password`` is the account's; ``throttle.TooManyFailures``
    while its address is in its back-off. Counted per address, as at sign-in."""
    if account.email:
        found = authenticate(account.email, password)
        if found is None or found.id != account.id:
            raise WrongPassword()
        return
    # No email to sign in with (invited by phone): counted per account instead.
    key = f"account:{account.sub}"
    throttle.refuse_if_blocked(key)
    if len(password) > MAX_PASSWORD_LENGTH or not verify_password(account.password_hash, password):
        throttle.record_failure(key)
        raise WrongPassword()
    throttle.forget_failures(key)


def change_password(account: Account, current: str, new: str, keep: BrowserSession | None) -> None:
    """Set a new password and end every sign-in but ``keep`` (this browser). Commits.

    AccountError (policy), WrongPassword or TooManyFailures: nothing is changed.
    """
    check_password_policy(new)
    check_password(account, current)
    password_hash = hash_password(new)
    now = utcnow()
    account.password_hash = password_hash
    account.updated_at = now
    end_sign_ins(account, now, keep=keep)
    events.record("user.password_changed", f"account:{account.sub}", sub=account.sub)
    db.session.commit()


def request_email_change(account: Account, password: str, email: str, lang: str | None) -> str:
    """Send a verification link to a new address; it becomes the account's email when
    followed. Commits; returns the normalised address.

    WrongPassword, TooManyFailures, AccountError (not an address, the same one) or
    AccountConflict (another account has it): nothing is sent.
    """
    check_password(account, password)
    address = normalise_email(email)
    if address == account.email:
        raise AccountError("this is your email address already", field="email")
    refuse_taken(address, None, account)
    actor = f"account:{account.sub}"
    verification.send_link(account, lang, actor, address)
    events.record("user.email_change_requested", actor, sub=account.sub)
    db.session.commit()
    return address
