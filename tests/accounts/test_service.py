"""Accounts: creation rules and password sign-in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app.accounts.authentication import authenticate
from app.accounts.errors import AccountError
from app.accounts.service import create_account
from app.extensions import db
from app.models import Account


def test_duplicate_email_refused_case_insensitively(app, factory):
    """An email differing only in case is the same address."""
    factory.account(email="ada@example.com")
    with app.app_context(), pytest.raises(AccountError, match="already exists"):
        create_account("ADA@example.com", "another long password")


def test_invalid_email_refused_without_dns(app):
    """A malformed address is refused (no DNS lookups are made)."""
    with app.app_context(), pytest.raises(AccountError, match="invalid email"):
        create_account("not-an-address", "a long password")


def test_password_too_long_refused(app):
    """Passwords longer than the policy maximum are refused."""
    with app.app_context(), pytest.raises(AccountError, match="at most"):
        create_account("long@example.com", "x" * 257)


def test_authenticate_rehashes_outdated_parameters(app, factory):
    """A hash made with other argon2 parameters is replaced on successful sign-in."""
    person = factory.account()
    with app.app_context():
        account = db.session.scalar(select(Account))
        account.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(
            person.password
        )
        db.session.commit()
        old = account.password_hash
        assert authenticate(person.email, person.password) is not None
        db.session.refresh(account)
        assert account.password_hash != old and "t=1" in account.password_hash


def test_authenticate_refuses_wrong_password_and_disabled_account(app, factory):
    """Wrong password, unknown email and disabled accounts all fail alike."""
    person = factory.account()
    with app.app_context():
        assert authenticate(person.email, "wrong password!") is None
        assert authenticate("nobody@example.com", person.password) is None
        account = db.session.scalar(select(Account))
        account.disabled = True
        db.session.commit()
        assert authenticate(person.email, person.password) is None
