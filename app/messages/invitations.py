"""The invitation message (spec §2.3, §5): queued with the invitation, sent by the worker.

``queue_invitation`` runs inside the invitation's transaction (create, bulk create,
resend). At delivery, ``refusal`` drops a message whose link no longer works
(the invitation was resent, accepted, revoked, or has lapsed), and ``mark_sent``
stamps ``sent_at`` and records ``invitation.sent`` in the transaction that marks the
item sent.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from app import events
from app.extensions import db
from app.invitations import catalog, states
from app.invitations.issued import Issued
from app.messages.rendering import format_datetime
from app.messages.service import queue_email, queue_sms
from app.models import Account, Client, Invitation, OutboxItem, utcnow
from app.outbox.queue import SENT
from app.outbox.senders import Outcome

#: Who records ``invitation.sent``: the worker, not a person.
ACTOR = "system"


def queue_invitation(issued: Issued) -> OutboxItem | None:
    """Queue the invitation's email, or its SMS when it has only a mobile number;
    nothing when it sends no message of its own (``notify`` off, spec §2.3)."""
    invitation = issued.invitation
    if not invitation.notify:
        return None
    lang = _language(invitation)
    variables = invitation_variables(invitation, issued.short_link, lang)
    queue = queue_email if invitation.email else queue_sms
    return queue(
        invitation.email or invitation.mobile_number,
        invitation.template_key,
        lang,
        variables,
        invitation_id=invitation.id,
        # The link in this message works only while the invitation keeps this token.
        extra={"token_hash": invitation.token_hash},
    )


def delivered_to(invitation: Invitation) -> set[str]:
    """The addresses (email, number) a message of ``invitation`` was delivered to: its
    outbox items that left the outbox as ``sent``."""
    return set(
        db.session.scalars(
            select(OutboxItem.recipient).where(
                OutboxItem.invitation_id == invitation.id,
                OutboxItem.kind.in_(("email", "sms")),
                OutboxItem.state == SENT,
            )
        )
    )


def invitation_variables(invitation: Invitation, link: str, lang: str) -> dict[str, str]:
    """The template variables of spec §5 for ``invitation`` with its short ``link``,
    ``app_name``: what the person is invited to, and ``existing_account``: "yes" for an
    invitation to an account that exists (the person signs in to join).

    ``expires_at`` is when the link in the message stops working: the short link's
    end (7 days by default) or the invitation's, whichever comes first.
    """
    link_ends = min(invitation.expires_at, invitation.short_link_expires_at)
    return {
        "name": invitation.given_name or invitation.email or invitation.mobile_number or "",
        "invite_link": link,
        "invited_by": inviter_name(invitation.invited_by),
        "app_name": app_name(invitation),
        "account_name": current_app.config["ACCOUNT_NAME"],
        "expires_at": format_datetime(link_ends, lang),
        "existing_account": "yes" if invitation.existing_account else "",
    }


def inviter_name(actor: str) -> str:
    """A readable inviter: the account's name or address, the client's name, else ours."""
    kind, _, ident = actor.partition(":")
    name = None
    if kind == "account":
        account = db.session.scalar(select(Account).where(Account.sub == ident))
        if account is not None:
            full = " ".join(filter(None, (account.given_name, account.family_name)))
            name = full or account.email or account.phone_number
    elif kind == "client":
        name = db.session.scalar(select(Client.name).where(Client.client_id == ident))
    return name or current_app.config["ACCOUNT_NAME"]


def app_name(invitation: Invitation) -> str:
    """What ``invitation`` invites to: its client's name, else ACCOUNT_NAME (an invitation
    without a client lands on our own pages)."""
    client = invitation.client
    return (client.name if client is not None else None) or current_app.config["ACCOUNT_NAME"]


def _language(invitation: Invitation) -> str:
    """The invitation's language; the default if its templates were removed since."""
    if invitation.lang in catalog.languages(invitation.template_key):
        return invitation.lang
    return current_app.config["DEFAULT_LANG"]


def refusal(item: OutboxItem, payload: dict[str, Any]) -> Outcome | None:
    """A permanent failure for an invitation message whose link no longer works, or None."""
    if item.invitation_id is None or "token_hash" not in payload:
        return None
    try:
        reason = _stale(db.session.get(Invitation, item.invitation_id), payload["token_hash"])
    finally:
        db.session.commit()  # no transaction stays open while the sender talks to the network
    return Outcome(ok=False, error=f"not sent: {reason}", permanent=True) if reason else None


def _stale(invitation: Invitation | None, token_hash: str) -> str | None:
    if invitation is None:
        return "the invitation no longer exists"
    now = utcnow()
    state = states.effective_state(invitation, now)
    if state not in states.PENDING:
        return f"the invitation is {state}"
    if invitation.token_hash != token_hash:
        return "the invitation was resent since; this link no longer works"
    if invitation.short_link_expires_at <= now:
        return "the link in it has expired"
    return None


def mark_sent(item: OutboxItem) -> None:
    """After a message is delivered: stamp the invitation's ``sent_at`` (the first time)
    and record ``invitation.sent`` (every time), in the worker's transaction."""
    if item.invitation_id is None:
        return
    invitation = db.session.get(Invitation, item.invitation_id)
    if invitation is None:
        return
    if invitation.sent_at is None:
        invitation.sent_at = item.sent_at or utcnow()
    events.record(
        "invitation.sent", ACTOR, invitation=invitation, channel=item.kind, message=item.public_id
    )
