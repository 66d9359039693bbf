"""Email verification links (issue 10, issue 15): ``email_verified`` becomes true only
when the person proves they receive mail at the address, by opening a link Vestibule
emailed there and pressing its button (opening alone changes nothing: mail scanners
open links).

The links are ``password_tokens`` rows with purpose ``verify_email``: a 256-bit token,
only its hash stored, single use, with an expiry (``EMAIL_VERIFICATION_LIFETIME``);
a new link ends the account's earlier unused ones, and disabling the account or
changing its password ends them too (``accounts.revocation.end_sign_ins``).

A link proves the address it was sent to (``PasswordToken.address``), not the one the
account holds later: a new email asked for on the account page is sent a link and
becomes the account's email (verified) only when that link is followed; until then
the old address stays the one to sign in with and to receive password links.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app import events
from app.accounts import password_links
from app.accounts.errors import AccountError
from app.accounts.password_links import LinkUnusable
from app.accounts.revocation import end_password_links
from app.accounts.validation import refuse_taken, taken_is_conflict
from app.errors import Conflict
from app.extensions import db
from app.models import Account, PasswordToken, utcnow

PURPOSE = password_links.VERIFY_EMAIL

__all__ = [
    "PURPOSE",
    "LinkUnusable",
    "NothingToVerify",
    "confirm",
    "find_usable",
    "pending_email",
    "resend",
    "send_link",
]


class NothingToVerify(Conflict):
    """The address is verified already, or there is none to verify (409)."""


def send_link(
    account: Account, lang: str | None, actor: str, address: str | None = None
) -> PasswordToken:
    """Add a link verifying ``address`` (by default the account's email) and queue the
    email carrying it there, in ``lang`` if that template exists (not committed: the
    caller's transaction)."""
    address = address or account.email
    lifetime = current_app.config["EMAIL_VERIFICATION_LIFETIME"]
    row, link = password_links.issue(account, PURPOSE, lifetime, actor)
    row.address = address
    language = password_links.language(PURPOSE, lang, strict=False)
    password_links.send(account, PURPOSE, link, row.expires_at, language, to=address)
    return row


def pending_email(account: Account) -> str | None:
    """A new address asked for on the account page whose link still works, if any
    (reads only)."""
    row = db.session.scalar(
        select(PasswordToken)
        .where(
            PasswordToken.account_id == account.id,
            PasswordToken.purpose == PURPOSE,
            PasswordToken.used_at.is_(None),
            PasswordToken.expires_at > utcnow(),
        )
        .order_by(PasswordToken.id.desc())
        .limit(1)
    )
    if row is not None and row.address and row.address != account.email:
        return row.address
    return None


def resend(account: Account, lang: str | None) -> str:
    """Send a fresh link to the new address waiting for one, else to the account's
    unverified email; earlier links stop working. Commits; returns the address.

    NothingToVerify when the email is verified and no change waits (nothing is sent).
    """
    address = pending_email(account)
    if address is None:
        if not account.email:
            raise NothingToVerify("this account has no email address")
        if account.email_verified:
            raise NothingToVerify("this email address is verified already")
        address = account.email
    send_link(account, lang, f"account:{account.sub}", address)
    db.session.commit()
    return address


def find_usable(token: str | None) -> PasswordToken | None:
    """The verification link's row while it still works, else None. Reads only."""
    return password_links.find_usable(token, (PURPOSE,))


def confirm(token: str) -> Account:
    """Mark the address the link was sent to verified, spending the link; a new address
    becomes the account's email then. Commits.

    LinkUnusable for a link that does not work (including the loser of two concurrent
    confirmations); AccountConflict when another account took the new address
    meanwhile. Nothing is written then.
    """
    row = find_usable(token)
    now = utcnow()
    if row is None or not password_links.claim(row, now):
        db.session.rollback()
        raise LinkUnusable("this link has expired or was already used")
    account = row.account
    try:
        _verify(account, row.address or account.email, now)
        with taken_is_conflict():
            db.session.commit()
    except AccountError:
        db.session.rollback()
        raise
    return account


def _verify(account: Account, address: str, now) -> None:
    actor = f"account:{account.sub}"
    changed = address != account.email
    if changed:
        refuse_taken(address, None, account)
        account.email = address
        # Links mailed to the old address no longer reach the person's mailbox.
        end_password_links(account, now)
        events.record("user.updated", actor, sub=account.sub, fields=["email", "email_verified"])
    account.email_verified = True
    account.updated_at = now
    events.record("user.email_verified", actor, sub=account.sub, email_changed=changed)
