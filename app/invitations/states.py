"""The invitation state machine (spec §3.2): the only place a state changes."""

from __future__ import annotations

from datetime import datetime

from app.invitations.errors import InvalidTransition
from app.models import Invitation

INITIATED = "initiated"
REINITIATED = "reinitiated"
ACCEPTED = "accepted"
REVOKED = "revoked"
REJECTED = "rejected"
EXPIRED = "expired"

PENDING = frozenset({INITIATED, REINITIATED})
TERMINAL = frozenset({ACCEPTED, REVOKED, REJECTED, EXPIRED})
STATES = PENDING | TERMINAL

#: action -> (state it leads to, event type). Every action starts from a pending state.
TRANSITIONS: dict[str, tuple[str, str]] = {
    "resend": (REINITIATED, "invitation.resent"),
    "accept": (ACCEPTED, "invitation.accepted"),
    "revoke": (REVOKED, "invitation.revoked"),
    "reject": (REJECTED, "invitation.rejected"),
    "expire": (EXPIRED, "invitation.expired"),
}

#: The timestamp column each terminal state sets.
STAMPS = {ACCEPTED: "accepted_at", REVOKED: "revoked_at", REJECTED: "rejected_at"}


def effective_state(invitation: Invitation, now: datetime) -> str:
    """The stored state, or ``expired`` for a pending invitation past ``expires_at``."""
    if invitation.state in PENDING and invitation.expires_at <= now:
        return EXPIRED
    return invitation.state


def target(current: str, action: str) -> tuple[str, str]:
    """(new state, event type) for ``action``; InvalidTransition when not allowed."""
    if current not in PENDING:
        raise InvalidTransition(
            f"the invitation is {current}: {action} is not possible", state=current
        )
    return TRANSITIONS[action]
