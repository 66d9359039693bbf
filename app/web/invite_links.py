"""The short link ``/i/<token>`` (spec §2.2): a redirect to the invitation's landing URL
while it is usable, otherwise a page that says why not.

Opening a link reads and never writes (spec §2.4): mail scanners open links before
people do, so a visit must not consume, expire or log anything.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from app.invitations import links, service, states
from app.models import Invitation, utcnow
from app.web.i18n import set_locale
from app.web.registration_context import EXPLANATIONS, chosen_lang

bp = Blueprint("invite_links", __name__)

#: EXPLANATIONS key and status of each page a link can show.
PAGES: dict[str, tuple[str, int]] = {
    "unknown": ("invite_link_invalid", 404),
    "link_expired": ("invite_link_expired", 410),
    states.EXPIRED: ("invite_expired", 410),
    states.REVOKED: ("invite_revoked", 410),
    states.REJECTED: ("invite_rejected", 410),
    # The link did its job; the person now signs in instead (spec §2, "offers sign-in").
    states.ACCEPTED: ("invite_accepted", 200),
}


@bp.get("/i/<path:token>")
def short_link(token: str):
    """Redirect a usable invitation to its landing URL; explain any other."""
    invitation = service.find_by_token(token)
    set_locale(lang=chosen_lang(invitation))
    if invitation is None:
        return _page("unknown")
    state = service.state_of(invitation)
    if state in states.PENDING:
        if invitation.short_link_expires_at > utcnow():
            return redirect(links.landing_url(invitation, token), code=302)
        return _page("link_expired")
    if state == states.ACCEPTED:
        return _page(state, sign_in_url=_sign_in_url(invitation))
    return _page(state)


def _page(reason: str, sign_in_url: str | None = None):
    title, hint = EXPLANATIONS[PAGES[reason][0]]
    html = render_template(
        "web/invitation_link.html", title=title, hint=hint, sign_in_url=sign_in_url
    )
    return html, PAGES[reason][1]


def _sign_in_url(invitation: Invitation) -> str:
    """The client's own login route (without the invitation), or Vestibule's sign-in."""
    if invitation.client is not None and invitation.client.initiate_login_uri:
        return invitation.client.initiate_login_uri
    return url_for("web.sign_in")
