"""A person's own signed-in browsers, as the account page lists them (issue 15): each
with its browser, address and last use, and a way to end one or all the others.
Ending one is signing that browser out: its cookie stops working at its next request.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.errors import NotFound
from app.extensions import db
from app.models import Account, BrowserSession, utcnow


class SessionNotFound(NotFound):
    """No active session of this account has that id (404)."""


def active_sessions(account: Account) -> list[BrowserSession]:
    """The account's sessions that are neither ended nor expired, last used first."""
    rows = db.session.scalars(
        select(BrowserSession).where(
            BrowserSession.account_id == account.id,
            BrowserSession.ended_at.is_(None),
            BrowserSession.expires_at > utcnow(),
        )
    )
    return sorted(rows, key=lambda row: row.last_seen_at or row.auth_time, reverse=True)


def end_one(account: Account, public_sid: str) -> None:
    """End one of the account's active sessions (this browser's too). Commits;
    SessionNotFound for another person's session or one that has ended."""
    ended = db.session.execute(
        _active_of(account)
        .where(BrowserSession.public_sid == public_sid)
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended != 1:
        db.session.rollback()
        raise SessionNotFound("this session has ended already")
    db.session.commit()


def end_others(account: Account, keep: BrowserSession) -> int:
    """End every active session of the account but ``keep``; how many ended. Commits."""
    ended = db.session.execute(
        _active_of(account)
        .where(BrowserSession.id != keep.id)
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return ended


def end_all(account: Account) -> int:
    """End every active session of the account; how many. Not committed: the change
    that calls for it (a reset factor) commits both at once."""
    return db.session.execute(
        _active_of(account).values(ended_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def _active_of(account: Account):
    return update(BrowserSession).where(
        BrowserSession.account_id == account.id, BrowserSession.ended_at.is_(None)
    )
