"""Failed password checks counted per address, across every form that checks one.

The per-client-address rate limits (Flask-Limiter) stop one machine hammering one
form; this stops many machines guessing one person's password. After
``SIGN_IN_FREE_FAILURES`` consecutive failures for an address, no password is
checked for it for ``SIGN_IN_BACKOFF_BASE`` seconds, doubling with each further
failure up to ``SIGN_IN_BACKOFF_MAX``. A success clears the count; so does a quiet
``SIGN_IN_FAILURE_WINDOW``.

The count lives in the database (every instance sees it) and is keyed by a hash of
the address typed, account or not, so being slowed down tells nobody whether an
address has an account.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.crypto import hash_secret
from app.extensions import db
from app.models import SignInFailure, utcnow


class TooManyFailures(Exception):
    """Passwords for this address are not checked until ``retry_after`` seconds pass."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


def _key(email: str) -> str:
    return hash_secret("sign-in:" + email.strip().lower())


def refuse_if_blocked(email: str) -> None:
    """Raise TooManyFailures while this address is in its back-off."""
    blocked_until = db.session.scalar(
        select(SignInFailure.blocked_until).where(SignInFailure.key_hash == _key(email))
    )
    now = utcnow()
    if blocked_until is not None and blocked_until > now:
        raise TooManyFailures(math.ceil((blocked_until - now).total_seconds()))


def record_failure(email: str) -> None:
    """Count one more failure for this address and start or lengthen its back-off."""
    config = current_app.config
    now = utcnow()
    quiet_since = now - timedelta(seconds=config["SIGN_IN_FAILURE_WINDOW"])
    # One statement, so concurrent failures each count (no lost update, no duplicate).
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    failures = db.session.scalar(
        insert(SignInFailure)
        .values(key_hash=_key(email), failures=1, last_failed_at=now)
        .on_conflict_do_update(
            index_elements=[SignInFailure.key_hash],
            set_={
                "failures": case(
                    (SignInFailure.last_failed_at < quiet_since, 1),
                    else_=SignInFailure.failures + 1,
                ),
                "last_failed_at": now,
            },
        )
        .returning(SignInFailure.failures)
    )
    beyond = failures - config["SIGN_IN_FREE_FAILURES"]
    if beyond >= 0:
        seconds = min(
            config["SIGN_IN_BACKOFF_BASE"] * 2 ** min(beyond, 32), config["SIGN_IN_BACKOFF_MAX"]
        )
        db.session.execute(
            update(SignInFailure)
            .where(SignInFailure.key_hash == _key(email))
            .values(blocked_until=now + timedelta(seconds=seconds))
        )
    db.session.commit()


def forget_failures(email: str) -> None:
    """A correct password: the address starts afresh (not committed)."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.key_hash == _key(email)))
