"""Ending what an account holds: its browser sessions, tokens, unredeemed codes and
unused password links, after it is disabled or its password changes. Every function
writes in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import update as sql_update

from app.extensions import db
from app.models import Account, AuthorizationCode, BrowserSession, PasswordToken, Token


def end_sign_ins(account: Account, now: datetime, keep: BrowserSession | None = None) -> None:
    """End every browser session (but ``keep``, the one changing its own password),
    revoke every token, spend every unredeemed code and end every unused password link
    of ``account`` (in the caller's transaction): after disabling it or a password
    change."""
    sessions = sql_update(BrowserSession).where(
        BrowserSession.account_id == account.id, BrowserSession.ended_at.is_(None)
    )
    if keep is not None:
        sessions = sessions.where(BrowserSession.id != keep.id)
    db.session.execute(sessions.values(ended_at=now).execution_options(synchronize_session=False))
    db.session.execute(
        sql_update(Token)
        .where(Token.account_id == account.id)
        .values(
            access_token_revoked_at=func.coalesce(Token.access_token_revoked_at, now),
            refresh_token_revoked_at=func.coalesce(Token.refresh_token_revoked_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sql_update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Unused password links too: enabling the account again must not revive them.
    end_password_links(account, now)


def end_password_links(account: Account, now: datetime, purpose: str | None = None) -> None:
    """End the account's unused password links (of ``purpose``, or all) by expiring
    them now (in the caller's transaction)."""
    stmt = sql_update(PasswordToken).where(
        PasswordToken.account_id == account.id,
        PasswordToken.used_at.is_(None),
        PasswordToken.expires_at > now,
    )
    if purpose is not None:
        stmt = stmt.where(PasswordToken.purpose == purpose)
    db.session.execute(stmt.values(expires_at=now).execution_options(synchronize_session=False))
