"""Where a registration happens (spec §2 step 5, §3.4): inside a paused authorization
request or on the hosted page ``/register``, with which invitation, and whether this
person may register there at all (the refusals, with the message and status of each).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.accounts import registration
from app.invitations import service as invitations
from app.models import Client, Interaction, Invitation
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.web.i18n import set_locale

#: The title and explanation of each page that says why an invitation link or a
#: registration cannot go on (the short link's pages say the same).
EXPLANATIONS = {
    "signup_closed": (
        _l("Registration is closed"),
        _l("New accounts cannot be created here. If you already have an account, sign in."),
    ),
    "signup_restricted": (
        _l("Registration is by invitation only"),
        _l("To create an account you need an invitation. If you already have an account, sign in."),
    ),
    "invite_link_invalid": (
        _l("This invitation link is not valid"),
        _l(
            "Please check that you opened the whole link from the message. If it still does "
            "not work, ask the person who invited you for a new one."
        ),
    ),
    "invite_link_expired": (
        _l("This invitation link has expired"),
        _l(
            "Links in invitation messages work for a limited time. Your invitation is still "
            "valid: please ask the person who invited you to send it again, and you will get "
            "a new link."
        ),
    ),
    "invite_other_client": (
        _l("This invitation is for another application"),
        _l("Please open the link from your invitation message as it is, without changing it."),
    ),
    "invite_expired": (
        _l("This invitation has expired"),
        _l("It was not used in time. Please ask the person who invited you for a new invitation."),
    ),
    "invite_revoked": (
        _l("This invitation was withdrawn"),
        _l(
            "The person who invited you has cancelled it. If you think this is a mistake, "
            "please contact them."
        ),
    ),
    "invite_rejected": (
        _l("This invitation was declined"),
        _l(
            "It was declined on the registration page. If you want to join after all, please "
            "ask for a new invitation."
        ),
    ),
    "invite_accepted": (
        _l("This invitation has already been used"),
        _l("It was accepted already. Sign in to continue."),
    ),
    "invite_declined": (
        _l("You declined the invitation"),
        _l("No account was created. You can close this page."),
    ),
}
#: EXPLANATIONS key and status for each refusal.
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


def chosen_lang(invitation: Invitation | None) -> str | None:
    """The language the invitation's creator chose, if any (not one defaulted)."""
    return invitation.lang if invitation is not None and invitation.lang_chosen else None


def set_context_locale(ctx: Context) -> None:
    """The language of this context's pages: the paused request's ``ui_locales``, then
    the invitation's chosen language, then the browser's."""
    set_locale(ctx.step.ui_locales if ctx.step else None, chosen_lang(ctx.invitation))
