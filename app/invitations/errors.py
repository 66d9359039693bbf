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


class InvalidTransition(Conflict):
    """The invitation's state does not allow this change (409)."""

    code = "invalid_state"
