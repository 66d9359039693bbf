"""Account creation and password sign-in. Writes happen here, not in views."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.extensions import db
from app.models import Account, Role

#: Passwords shorter than this are refused (NIST SP 800-63B: at least 8).
MIN_PASSWORD_LENGTH = 8
#: argon2 accepts more, but unbounded input is a denial-of-service lever.
MAX_PASSWORD_LENGTH = 256


class AccountError(ValueError):
    """Input that cannot make a valid account; the message is safe to show."""


def normalise_email(email: str) -> str:
    """Validate syntax (no DNS lookups) and return the lower-cased address."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"invalid email address: {exc}") from None
    return result.normalized.lower()


def check_password_policy(password: str) -> None:
    """Raise AccountError when the password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def find_by_email(email: str) -> Account | None:
    """The account with this (normalised) email, if any."""
    return db.session.scalar(select(Account).where(Account.email == email.strip().lower()))


def create_account(
    email: str,
    password: str,
    *,
    given_name: str | None = None,
    family_name: str | None = None,
    email_verified: bool = False,
    roles: tuple[str, ...] = (),
) -> Account:
    """Create and commit an account; raise AccountError on bad input or a taken email."""
    address = normalise_email(email)
    check_password_policy(password)
    if find_by_email(address):
        raise AccountError("an account with this email already exists")
    account = Account(
        email=address,
        email_verified=email_verified,
        given_name=given_name,
        family_name=family_name,
        password_hash=hash_password(password),
    )
    account.roles = [_role(name) for name in roles]
    db.session.add(account)
    db.session.commit()
    return account


def _role(name: str) -> Role:
    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name)
        db.session.add(role)
    return role


def authenticate(email: str, password: str) -> Account | None:
    """The account these credentials open, or None. Rehashes outdated hashes."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    account = find_by_email(email) if email else None
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled:
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        db.session.commit()
    return account
