"""Signing in with an email and a password (spec §3.3), throttled per address
(app/accounts/throttle.py)."""

from __future__ import annotations

from app.accounts import throttle
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.accounts.service import find_by_email
from app.accounts.validation import MAX_PASSWORD_LENGTH
from app.extensions import db
from app.models import Account
from app.observability.metrics import record_sign_in


def authenticate(email: str, password: str) -> Account | None:
    """The account these credentials open, or None. Rehashes outdated hashes.

    Every form that checks a password calls this, so failures count per address
    across all of them; raises ``throttle.TooManyFailures`` while the address is
    in its back-off (no password is checked then).
    """
    throttle.refuse_if_blocked(email)
    account = find_by_email(email) if email else None
    ok = len(password) <= MAX_PASSWORD_LENGTH and verify_password(
        account.password_hash if account else None, password
    )
    if not ok or account is None or account.disabled:
        throttle.record_failure(email)
        record_sign_in(success=False)
        return None
    throttle.forget_failures(email)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    db.session.commit()
    return account
