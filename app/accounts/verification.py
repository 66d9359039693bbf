"""Email verification links (issue 10): ``email_verified`` becomes true only when the
person proves they receive mail at the address, by opening a link Vestibule emailed
there and pressing its button (opening alone changes nothing: mail scanners open
links).

The links are ``password_tokens`` rows with purpose ``verify_email``: a 256-bit token,
only its hash stored, single use, with an expiry (``EMAIL_VERIFICATION_LIFETIME``);
a new link ends the account's earlier unused ones, and disabling the account or
changing its password ends them too (``accounts.revocation.end_sign_ins``). Whoever
changes an account's email must end its links first (``end_password_links`` with
this purpose): a link proves the address it was sent to, not the one held later.
"""

from __future__ import annotations

from flask import current_app

from app import events
from app.accounts import password_links
from app.accounts.password_links import LinkUnusable
from app.extensions import db
from app.models import Account, PasswordToken, utcnow

PURPOSE = password_links.VERIFY_EMAIL

__all__ = ["PURPOSE", "LinkUnusable", "confirm", "find_usable", "send_link"]


def send_link(account: Account, lang: str | None, actor: str) -> PasswordToken:
    """Add a verification link for the account's email and queue the email carrying
    it, in ``lang`` if that template exists (not committed: the caller's transaction)."""
    lifetime = current_app.config["EMAIL_VERIFICATION_LIFETIME"]
    row, link = password_links.issue(account, PURPOSE, lifetime, actor)
    language = password_links.language(PURPOSE, lang, strict=False)
    password_links.send(account, PURPOSE, link, row.expires_at, language)
    return row


def find_usable(token: str | None) -> PasswordToken | None:
    """The verification link's row while it still works, else None. Reads only."""
    return password_links.find_usable(token, (PURPOSE,))


def confirm(token: str) -> Account:
    """Mark the email the link was sent to verified, spending the link. Commits.

    LinkUnusable for a link that does not work (including the loser of two concurrent
    confirmations); nothing is written then.
    """
    row = find_usable(token)
    now = utcnow()
    if row is None or not password_links.claim(row, now):
        db.session.rollback()
        raise LinkUnusable("this link has expired or was already used")
    account = row.account
    account.email_verified = True
    account.updated_at = now
    events.record("user.email_verified", f"account:{account.sub}", sub=account.sub)
    db.session.commit()
    return account
