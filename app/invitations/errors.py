"""Typed refusals of the invitation domain; turned into responses at the edge."""

from __future__ import annotations

from app.errors import Conflict, DomainError, NotFound


class InvalidInvitation(DomainError):
    """Input that cannot make a valid invitation (400); names the field."""

    def __init__(self, field: str, description: str, *, prefixed: bool = True):
        super().__init__(f"{field}: {description}" if prefixed else description, field=field)


class InvitationNotFound(NotFound):
    """No invitation with that id."""


class InvitationConflict(Conflict):
    """A pending invitation or an account already exists for the address (409)."""


class AccountExists(InvitationConflict):
    """The address belongs to an account (409). ``sub`` names it; only the edges decide
    who may see it (``named``): callers allowed to read users."""

    def __init__(self, description: str, sub: str):
        super().__init__(description)
        self.sub = sub

    def named(self) -> AccountExists:
        """This refusal with the account's ``sub`` in its details."""
        self.extra["sub"] = self.sub
        return self


class InvalidTransition(Conflict):
    """The invitation's state does not allow this change (409)."""

    code = "invalid_state"
