"""Recording events (spec §6) in the transaction of the change that caused them.

An event of a type webhooks may subscribe to is also queued, in that same
transaction, for every enabled endpoint subscribed to it (the transactional outbox):
if the change rolls back, so do its event and its deliveries.
"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import Event, Invitation, utcnow
from app.webhooks.fanout import fan_out

#: The actor of changes made with the ``vestibule`` command (operators at a terminal).
CLI_ACTOR = "cli"

#: The event types webhooks deliver (spec §6, and the account page's of issue 15).
#: Other events (``user.disabled``, ``group.created``, ``webhook.created`` ...) are
#: kept in the audit log only.
WEBHOOK_EVENT_TYPES = (
    "invitation.created",
    "invitation.sent",
    "invitation.resent",
    "invitation.accepted",
    "invitation.revoked",
    "invitation.rejected",
    "invitation.expired",
    "user.created",
    "user.login",
    "user.updated",
    "user.password_changed",
    "user.email_verified",
    "user.deleted",
    # a person's sign-in factors (issue 16): set up or removed by them or an administrator
    "user.mfa_enrolled",
    "user.mfa_removed",
    "user.passkey_added",
    "user.passkey_removed",
    "consent.revoked",
)


def record(
    type_: str,
    actor: str,
    *,
    invitation: Invitation | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    **data: Any,
) -> Event:
    """Add an event, and its webhook deliveries, to the session (the caller commits
    them with its change)."""
    event = Event(
        type=type_,
        actor=actor,
        invitation_id=invitation.id if invitation is not None else None,
        from_state=from_state,
        to_state=to_state,
        data={"invitation_id": invitation.public_id, **data} if invitation is not None else data,
        occurred_at=utcnow(),
    )
    db.session.add(event)
    if type_ in WEBHOOK_EVENT_TYPES:
        fan_out(event)
    return event
