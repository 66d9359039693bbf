"""What an administrator sees and resets of a person's sign-in factors (issue 16): the
TOTP authenticator with its recovery codes, and the passkeys.

A person who lost their phone and recovery codes, or every passkey, asks an
administrator: resetting removes what was lost (an event and a webhook for each
change), and at the next sign-in a person who must use a second factor is led through
setting one up again. A reset also signs the person out of every browser: a lost
phone or key may be in someone else's hands beside a signed-in browser, and the
person signs in again with what is left. One who lost the password too gets a set-password link
(app/accounts/password_links.py) after the reset; a passkey-only account whose
passkeys are reset can sign in only through such a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app import events
from app.accounts import active_sessions, totp
from app.accounts.service import find
from app.extensions import db
from app.models import Account
from app.models.factors import Passkey


@dataclass(frozen=True)
class Factors:
    """A person's factors as the dashboard and the admin API show them."""

    totp: bool
    recovery_codes_left: int
    passkeys: list[Passkey]


def factors_of(account: Account) -> Factors:
    """The account's authenticator (and unused recovery codes) and passkeys."""
    enrolled = totp.authenticator(account) is not None
    passkeys = list(
        db.session.scalars(
            select(Passkey).where(Passkey.account_id == account.id).order_by(Passkey.id)
        )
    )
    codes = totp.recovery_codes_left(account) if enrolled else 0
    return Factors(enrolled, codes, passkeys)


def reset_totp(sub: str, actor: str) -> bool:
    """Remove ``sub``'s authenticator and recovery codes (``user.mfa_removed``) and end
    their sessions; whether there was one. Commits."""
    account = find(sub)
    if totp.authenticator(account) is not None:
        active_sessions.end_all(account)
    return totp.remove(account, actor)


def reset_passkeys(sub: str, actor: str) -> int:
    """Remove every passkey of ``sub`` (``user.passkey_removed`` for each) and, when
    there was one, end their sessions; how many. Commits."""
    account = find(sub)
    passkeys = db.session.scalars(select(Passkey).where(Passkey.account_id == account.id)).all()
    for passkey in passkeys:
        events.record("user.passkey_removed", actor, sub=account.sub, name=passkey.name)
        db.session.delete(passkey)
    if passkeys:
        active_sessions.end_all(account)
    db.session.commit()
    return len(passkeys)
