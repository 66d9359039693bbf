"""The dashboard's invite form (spec §7.4, issue 6): one invitation through the service
the admin API calls (app/invitations). A link exists only right after it is made (only
its hash is stored), so an invitation that sends no message answers with its detail
page showing the link, never with a redirect: the link never goes into a URL, the
session or the browser's history."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _

from app.access import refuse_roles_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.invitation_detail import address, detail_page, to_detail
from app.dashboard.invitation_forms import InviteForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import creation
from app.invitations.errors import AccountExists


@bp.route("/invitations/new", methods=["GET", "POST"])
@requires("invitations.create")
def invitations_new():
    """The invite form; the service's refusals come back next to their fields."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _invite_page(form, 400 if form.is_submitted() else 200)
    try:
        data = form.invitation_input()
        refuse_roles_beyond_caller(caller(), data.roles)
        # No Accept-Language: the inviter's browser says nothing about the invitee's
        # ("Automatic" is the invitee's browser, when they open the link).
        issued = creation.create(data, actor())
    except DomainError as exc:
        db.session.rollback()
        form.show_refusal(exc)
        account = exc.sub if isinstance(exc, AccountExists) else None
        return _invite_page(
            form, exc.status, conflict=exc.extra.get("invitation_id"), account=account
        )
    if issued.invitation.notify:
        flash(
            _(
                "Invitation created; the message to %(address)s is on its way.",
                address=address(issued.invitation),
            )
        )
        return to_detail(issued.invitation)
    flash(_("Invitation created for %(address)s.", address=address(issued.invitation)))
    return detail_page(issued.invitation, issued, status=201)


def _invite_page(
    form: InviteForm, status: int, conflict: str | None = None, account: str | None = None
):
    """The form; after a refusal, links to the pending invitation or the account
    (``account``: the sub holding the address) it conflicts with."""
    page = render_template(
        "dashboard/invitations/new.html", form=form, conflict=conflict, account=account
    )
    return page, status
