"""Accepting an invitation for a person who already has an account (issue 15,
``existing_account: "join"``).

Signing in, not registering, accepts it: the account holding the invited email is the
invitee. One transaction marks the invitation ``accepted`` (``invitation.accepted``
with ``existing_account``: true) and grants its groups, roles, custom fields and public
metadata (``user.updated`` naming what changed); the password and the profile are
never touched. The invitation is accepted first, as in registration: its conditional
UPDATE decides which of two concurrent acceptances (two tabs) wins, and the loser
grants nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from app import events
from app.accounts.errors import AccountError
from app.accounts.registration import InvitationUnusable, require_pending
from app.accounts.validation import json_object
from app.errors import Conflict
from app.extensions import db
from app.invitations import service as invitations
from app.invitations import states
from app.invitations.errors import InvalidTransition
from app.models import Account, Invitation, utcnow


class NotTheInvitee(Conflict):
    """The account signing in is not the one the invitation is for (409)."""

    code = "not_the_invitee"


def invitee_of(invitation: Invitation) -> Account | None:
    """The account the invitation is for: the one that accepted it, or (pending) the
    one holding its email now."""
    if invitation.accepted_sub:
        return db.session.scalar(select(Account).where(Account.sub == invitation.accepted_sub))
    if not invitation.email:
        return None
    return db.session.scalar(select(Account).where(Account.email == invitation.email))


def accepted_by(invitation: Invitation, account: Account) -> bool:
    """Whether ``account`` has accepted ``invitation`` already."""
    return invitation.state == states.ACCEPTED and invitation.accepted_sub == account.sub


def join(invitation: Invitation, account: Account) -> None:
    """Accept ``invitation`` for ``account`` and grant what it grants, in one transaction.

    Nothing happens when ``account`` accepted it already (another tab, the link opened
    again). InvitationUnusable when it is not pending (or another acceptance won);
    NotTheInvitee when ``account`` is not the one it is for.
    """
    if accepted_by(invitation, account):
        return
    require_pending(invitation)
    invitee = invitee_of(invitation)
    if not invitation.existing_account or invitee is None or invitee.id != account.id:
        raise NotTheInvitee("this invitation is for another account")
    actor = f"account:{account.sub}"
    try:
        invitations.accept(invitation, account.sub, actor)
    except InvalidTransition:
        db.session.rollback()
        if accepted_by(invitation, account):  # reloaded: the other tab was this person's
            return
        raise InvitationUnusable("this invitation has just been used", state="accepted") from None
    try:
        changed = _grant(invitation, account)
    except AccountError:
        db.session.rollback()  # merged data too large: nothing is accepted
        raise
    if changed:
        account.updated_at = utcnow()
        events.record("user.updated", actor, invitation=invitation, sub=account.sub, fields=changed)
    db.session.commit()


def _grant(invitation: Invitation, account: Account) -> list[str]:
    """Add the invitation's groups and roles, and merge its custom fields and public
    metadata over the account's (the invitation's values win); the names of what
    changed."""
    changed = []
    for name, granted in (("groups", invitation.groups), ("roles", invitation.roles)):
        held = getattr(account, name)
        new = [row for row in granted if row not in held]
        if new:
            held.extend(new)
            changed.append(name)
    for name in ("custom_fields", "public_metadata"):
        current = dict(getattr(account, name) or {})
        merged = json_object(name, {**current, **getattr(invitation, name)})
        if merged != current:
            setattr(account, name, merged)
            changed.append(name)
    return changed
