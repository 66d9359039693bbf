"""Recording events (spec §6) in the transaction of the change that caused them."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import Event, Invitation


def record(
    type_: str,
    actor: str,
    *,
    invitation: Invitation | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    **data: Any,
) -> Event:
    """Add an event to the session (the caller commits it with its change)."""
    event = Event(
        type=type_,
        actor=actor,
        invitation_id=invitation.id if invitation is not None else None,
        from_state=from_state,
        to_state=to_state,
        data={"invitation_id": invitation.public_id, **data} if invitation is not None else data,
    )
    db.session.add(event)
    return event
