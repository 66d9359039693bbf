"""Finding an invitation and changing its state (resend, revoke, reject, accept,
expire). No request or session in here: callers pass plain values and an actor label;
every change records its event in the same transaction, and state changes go through
``states.target`` only, in ``apply``. Creating invitations is in creation.py, the rules
a new one must meet in validation.py."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app import events
from app.crypto import hash_secret, new_secret
from app.extensions import db
from app.invitations import states
from app.invitations.errors import InvalidTransition, InvitationNotFound
from app.invitations.issued import Issued
from app.lookup import by_public_id
from app.messages import invitations as invitation_messages
from app.models import Invitation, utcnow

# -- reading ---------------------------------------------------------------------------


def find(public_id: str) -> Invitation:
    """The invitation with this public id; InvitationNotFound otherwise."""
    invitation = by_public_id(Invitation, public_id)
    if invitation is None:
        raise InvitationNotFound(f"no invitation {public_id}")
    return invitation


def find_by_token(token: str | None) -> Invitation | None:
    """The invitation whose secret token this is, if any."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_secret(token)))


def find_by_hash(token_hash: str | None) -> Invitation | None:
    """The invitation whose token has this hash (a paused request keeps only the hash)."""
    if not token_hash:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))


def state_of(invitation: Invitation) -> str:
    """The invitation's state now (a pending one past its expiry is ``expired``)."""
    return states.effective_state(invitation, utcnow())


def shows_link_to(invitation: Invitation, actor: str) -> bool:
    """Whether a resend may answer its new link to ``actor``: not when the invitation
    sends its own messages and ``actor`` did not create it (the link then reaches the
    invited address only)."""
    return not invitation.notify or invitation.invited_by == actor


def proven_addresses(invitation: Invitation) -> set[str]:
    """The invited email or number that registration may mark verified: those the
    invitation's message was delivered to, and the email its creator vouched for."""
    proven = invitation_messages.delivered_to(invitation)
    if invitation.email_verified and invitation.email:
        proven.add(invitation.email)
    return proven


# -- changing --------------------------------------------------------------------------


def resend(public_id: str, actor: str) -> Issued:
    """A fresh token and short link (the old ones stop working); the expiry restarts."""
    invitation = find(public_id)
    token = new_secret(24)
    now = utcnow()
    lifetime = invitation.expires_at - invitation.created_at
    apply(
        invitation,
        "resend",
        actor,
        token_hash=hash_secret(token),
        short_link_expires_at=now + timedelta(seconds=current_app.config["SHORT_LINK_LIFETIME"]),
        expires_at=now + lifetime,
        resent_count=invitation.resent_count + 1,
    )
    issued = Issued(invitation, token)
    invitation_messages.queue_invitation(issued)
    db.session.commit()
    return issued


def revoke(public_id: str, actor: str) -> Invitation:
    """Revoke a pending invitation; its links stop working."""
    invitation = find(public_id)
    apply(invitation, "revoke", actor)
    db.session.commit()
    return invitation


def reject(invitation: Invitation, actor: str) -> Invitation:
    """The invited person declined (spec §2: decline from the registration page)."""
    apply(invitation, "reject", actor)
    db.session.commit()
    return invitation


def accept(invitation: Invitation, account_sub: str, actor: str) -> Invitation:
    """Mark accepted by ``account_sub`` (not committed: the caller commits it together
    with the new account, or with the grants to an existing one). Of concurrent
    acceptances exactly one succeeds; the others raise InvalidTransition.

    The ``invitation.accepted`` event names the account (``sub``) and, for an
    invitation to an existing account, says so (``existing_account``: true)."""
    details = {"existing_account": True} if invitation.existing_account else {}
    apply(invitation, "accept", actor, accepted_sub=account_sub, sub=account_sub, details=details)
    return invitation


def expire_due(limit: int = 1000) -> int:
    """Mark pending invitations past their expiry as expired (with events); returns how many."""
    due = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.state.in_(states.PENDING), Invitation.expires_at <= utcnow())
            .limit(limit)
        )
    )
    for invitation in due:
        apply(invitation, "expire", "system")
    db.session.commit()
    return len(due)


def apply(
    invitation: Invitation,
    action: str,
    actor: str,
    sub: str | None = None,
    details: dict | None = None,
    **values,
):
    """Move ``invitation`` through ``action`` atomically and record the event (with
    ``sub`` and ``details`` in its data).

    The UPDATE matches the state read before, so of two concurrent changes one wins
    and the other gets InvalidTransition.
    """
    now = utcnow()
    before = invitation.state
    current = states.effective_state(invitation, now) if action != "expire" else before
    new_state, event_type = states.target(current, action)
    values["state"] = new_state
    if new_state in states.TERMINAL:
        values["pending_key"] = None
    if new_state in states.STAMPS:
        values[states.STAMPS[new_state]] = now
    stmt = update(Invitation).where(Invitation.id == invitation.id, Invitation.state == before)
    if action != "expire":
        stmt = stmt.where(Invitation.expires_at > now)
    changed = db.session.execute(
        stmt.values(**values).execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        raise InvalidTransition("the invitation changed meanwhile; reload it", state=before)
    data = {"sub": sub, **(details or {})} if sub else dict(details or {})
    events.record(
        event_type, actor, invitation=invitation, from_state=before, to_state=new_state, **data
    )
