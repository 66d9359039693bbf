"""Typed refusals of the accounts domain; turned into responses at the edge."""

from __future__ import annotations

from app.errors import Conflict, DomainError, NotFound


class AccountError(DomainError, ValueError):
    """Input that cannot make a valid account (400); the message is safe to show."""


class AccountConflict(AccountError):
    """The email or phone number already belongs to another account (409)."""

    status = 409
    code = "conflict"


class AccountNotFound(NotFound):
    """No account with that ``sub``."""


class CannotDisableSelf(Conflict):
    """A person asked to disable their own account (409): nobody locks themself out
    (and with them, perhaps, the server's only administrator)."""
