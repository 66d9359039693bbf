"""An invitation just created or resent, with its secret token: the only moment its
links can be shown or sent. The service makes it; the API, the dashboard, the CLI
and the invitation message (app/messages/invitations.py) read it."""

from __future__ import annotations

from dataclasses import dataclass

from app.invitations import links
from app.models import Invitation


@dataclass
class Issued:
    """An invitation with its secret token, available only right after create or resend."""

    invitation: Invitation
    token: str

    @property
    def link(self) -> str:
        """The landing URL with ``invite_id`` and ``view_type=register``."""
        return links.landing_url(self.invitation, self.token)

    @property
    def short_link(self) -> str:
        """The short link on Vestibule's host."""
        return links.short_url(self.token)
