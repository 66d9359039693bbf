"""Deleting an account (issue 15): by the person on the account page (their password
re-entered), or by an administrator through the admin API or the dashboard.

One transaction removes the account and everything that only existed for it: its
browser sessions, tokens, codes, consents, password and verification links, SMS codes
and memberships, and records ``user.deleted`` (a webhook event). Invitations it
accepted keep its ``sub`` as history; the audit log keeps what happened.
"""

from __future__ import annotations

from sqlalchemy import delete as sql_delete

from app import events
from app.accounts.credentials import check_password
from app.accounts.service import find
from app.errors import Conflict
from app.extensions import db
from app.models import (
    Account,
    AuthorizationCode,
    BrowserSession,
    Consent,
    PasswordToken,
    PhoneCode,
    Token,
)

#: Rows that belong to one account only, removed with it (the database's ON DELETE
#: CASCADE would too, but SQLite enforces foreign keys only when asked to).
OWNED = (BrowserSession, Token, AuthorizationCode, Consent, PasswordToken, PhoneCode)


class CannotDeleteSelf(Conflict):
    """An administrator asked to delete their own account through the admin tools (409):
    the account page does that, with the password."""


def delete_own(account: Account, password: str) -> str:
    """The person deletes their account, re-entering its password. Commits; returns
    the deleted ``sub``. WrongPassword or TooManyFailures: nothing is deleted."""
    check_password(account, password)
    return _delete(account, f"account:{account.sub}")


def delete(sub: str, actor: str) -> str:
    """An administrator deletes account ``sub``. Commits; returns it.

    AccountNotFound; CannotDeleteSelf when ``actor`` is that account (``account:<sub>``).
    """
    if actor == f"account:{sub}":
        raise CannotDeleteSelf("delete your own account on your account page")
    return _delete(find(sub), actor)


def _delete(account: Account, actor: str) -> str:
    sub = account.sub
    for model in OWNED:
        db.session.execute(
            sql_delete(model)
            .where(model.account_id == account.id)
            .execution_options(synchronize_session=False)
        )
    account.groups.clear()
    account.roles.clear()
    db.session.delete(account)
    events.record("user.deleted", actor, sub=sub)
    db.session.commit()
    return sub
