"""Where a registration happens (spec §2 step 5, §3.4): inside a paused authorization
request or on the hosted page ``/register``, with which invitation, and whether this
person may register there at all (the refusals, with the message and status of each).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts import registration
from app.invitations import service as invitations
from app.models import Client, Interaction, Invitation
from app.oauth import authorization
from app.oauth import interaction as pauses

#: Message key (its explanation is ``<key>_hint``) and status for each refusal.
REFUSALS: dict[str, tuple[str, int]] = {
    "signup_closed": ("signup_closed", 403),
    "signup_restricted": ("signup_restricted", 403),
    "invite_unknown": ("invite_link_invalid", 404),
    "invite_other_client": ("invite_other_client", 400),
    "invite_expired": ("invite_expired", 410),
    "invite_revoked": ("invite_revoked", 410),
    "invite_rejected": ("invite_rejected", 410),
    "invite_accepted": ("invite_accepted", 409),
}
#: Refusals after which self-service registration may be offered instead.
INVITATION_UNUSABLE = {"invite_unknown", "invite_expired", "invite_revoked", "invite_rejected"}


@dataclass
class Context:
    """Where this registration happens and with which invitation."""

    token: str | None
    invitation: Invitation | None
    #: An invitation token was part of the request (even one that matches nothing).
    token_sent: bool
    step: authorization.Step | None = None

    @property
    def interaction(self) -> Interaction | None:
        return self.step.interaction if self.step else None

    @property
    def client(self) -> Client | None:
        return self.step.client if self.step else None

    def refusal(self) -> str | None:
        """Why this person may not register here (a REFUSALS key), or None."""
        return registration.refusal(self.client, self.invitation, self.token_sent)

    def query(self) -> dict[str, str]:
        """The query that names this context in the form actions."""
        values = {"interaction": self.interaction.uid} if self.interaction else {}
        if self.token:
            values["invite_id"] = self.token
        return values


def in_interaction(step: authorization.Step, token: str | None) -> Context:
    """The context of a paused request; ``token`` must be the invitation it started with."""
    started_with_invitation = pauses.INVITE_HASH in step.interaction.params
    matches = pauses.invitation_token_matches(step.interaction, token)
    invitation = invitations.find_by_token(token) if matches else None
    return Context(
        token=token if matches else None,
        invitation=invitation,
        token_sent=started_with_invitation or bool(token),
        step=step,
    )


def hosted(token: str | None) -> Context:
    """The context of the hosted page (no client)."""
    invitation = invitations.find_by_token(token) if token else None
    return Context(token=token, invitation=invitation, token_sent=bool(token))
