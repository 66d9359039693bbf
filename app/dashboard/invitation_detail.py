"""The dashboard's page of one invitation (spec §7.4, issue 6): every field, the state
and the history of events, and the resend and revoke buttons, each asking first and
then calling the service the admin API calls (app/invitations). A new link made by a
resend is shown in that answer only (only its hash is stored)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.access import refuse_invitation_beyond_caller
from app.dashboard import bp, labels
from app.dashboard.access import actor, caller, requires
from app.dashboard.invitation_forms import ConfirmForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import queries, service, states
from app.invitations.errors import InvitationNotFound
from app.invitations.issued import Issued
from app.models import Account, Client, Invitation
from app.web.refusals import refusal_text

#: How the history names actors that are not a person or a client.
ACTORS = {"system": _l("Vestibule (automatic)"), "cli": _l("the vestibule command")}


@bp.get("/invitations/<invitation_id>")
@requires("invitations.read")
def invitations_detail(invitation_id: str):
    """Every field, the state, and the history of events."""
    return detail_page(service.find(invitation_id))


@bp.route("/invitations/<invitation_id>/resend", methods=["GET", "POST"])
@requires("invitations.resend")
def invitations_resend(invitation_id: str):
    """Ask first; then a new link (shown once when the invitation does not notify)."""
    invitation, form = service.find(invitation_id), ConfirmForm()
    if not _pending(invitation) or not form.validate_on_submit():
        return _confirm_page(invitation, "resend", form)
    try:
        refuse_invitation_beyond_caller(caller(), invitation_id)
        issued = service.resend(invitation_id, actor())
    except DomainError as exc:
        return _refused(invitation, exc)
    if issued.invitation.notify:
        flash(
            _(
                "The invitation was sent again to %(address)s, with a new link.",
                address=address(invitation),
            )
        )
        return to_detail(invitation)
    flash(_("A new link was made for %(address)s.", address=address(invitation)))
    return detail_page(issued.invitation, issued)


@bp.route("/invitations/<invitation_id>/revoke", methods=["GET", "POST"])
@requires("invitations.revoke")
def invitations_revoke(invitation_id: str):
    """Ask first; then revoke: the invitation's links stop working."""
    invitation, form = service.find(invitation_id), ConfirmForm()
    if not _pending(invitation) or not form.validate_on_submit():
        return _confirm_page(invitation, "revoke", form)
    try:
        refuse_invitation_beyond_caller(caller(), invitation_id)
        service.revoke(invitation_id, actor())
    except DomainError as exc:
        return _refused(invitation, exc)
    flash(_("The invitation to %(address)s was revoked.", address=address(invitation)))
    return to_detail(invitation)


@bp.errorhandler(InvitationNotFound)
def _not_found(exc: InvitationNotFound):
    return render_template("dashboard/invitations/not_found.html"), 404


def _confirm_page(invitation: Invitation, action: str, form: ConfirmForm):
    """ "Are you sure?", or back to the detail when the state no longer allows it."""
    if not _pending(invitation):
        state = labels.STATES[service.state_of(invitation)]
        flash(
            _(
                "This invitation is no longer open (%(state)s): it cannot be resent or revoked.",
                state=state,
            ),
            "error",
        )
        return to_detail(invitation)
    return render_template(
        "dashboard/invitations/confirm.html", invitation=invitation, action=action, form=form
    )


def _refused(invitation: Invitation, exc: DomainError):
    """A change the service refused (another person changed it meanwhile)."""
    db.session.rollback()
    flash(refusal_text(exc.description), "error")
    return to_detail(invitation)


def detail_page(invitation: Invitation, issued: Issued | None = None, status: int = 200):
    """The invitation's page, with its new link when ``issued`` just made one."""
    history = queries.history(invitation)
    people = _people([invitation.invited_by, *(event.actor for event in history)])
    page = render_template(
        "dashboard/invitations/detail.html",
        invitation=invitation,
        state=service.state_of(invitation),
        pending=_pending(invitation),
        history=history,
        people=people,
        accounts=accounts_of(history),
        issued=issued,
        address=address(invitation),
    )
    return page, status


@dataclass(frozen=True)
class Person:
    """How a page names an actor: words, and the account's page when it is one."""

    name: str
    sub: str | None = None


def _people(actors: list[str]) -> dict[str, Person]:
    """Each actor label as a Person: an account by its name (else its address), a client
    by its name, the command line and Vestibule itself in words."""
    subs = {label.removeprefix("account:") for label in actors if label.startswith("account:")}
    client_ids = {label.removeprefix("client:") for label in actors if label.startswith("client:")}
    known = {}
    if subs:
        for account in db.session.scalars(select(Account).where(Account.sub.in_(subs))):
            known[f"account:{account.sub}"] = Person(_account_name(account), account.sub)
    if client_ids:
        rows = db.session.execute(
            select(Client.client_id, Client.name).where(Client.client_id.in_(client_ids))
        )
        for client_id, name in rows:
            known[f"client:{client_id}"] = Person(_("%(client)s (client)", client=name))
    return {label: known.get(label) or Person(_actor_name(label)) for label in actors}


def _account_name(account: Account) -> str:
    full = " ".join(filter(None, (account.given_name, account.family_name)))
    address = account.email or account.phone_number or account.sub
    return f"{full} ({address})" if full else address


def _actor_name(label: str) -> str:
    if label.startswith("client:"):
        return _("client %(client)s", client=label.removeprefix("client:"))
    if label.startswith("account:"):
        return _("a deleted account")
    return str(ACTORS.get(label, label))


def accounts_of(history: list) -> dict[str, Person]:
    """The accounts an event names in its data (the one created, the one that accepted)."""
    subs = {event.data.get("sub") for event in history if (event.data or {}).get("sub")}
    if not subs:
        return {}
    rows = db.session.scalars(select(Account).where(Account.sub.in_(subs)))
    return {account.sub: Person(_account_name(account), account.sub) for account in rows}


def to_detail(invitation: Invitation):
    """Back to the invitation's page (303, so a reload does not post again)."""
    return redirect(url_for(".invitations_detail", invitation_id=invitation.public_id), 303)


def _pending(invitation: Invitation) -> bool:
    return service.state_of(invitation) in states.PENDING


def address(invitation: Invitation) -> str:
    """How pages and messages name the invitee: email, else mobile number, else the id."""
    return invitation.email or invitation.mobile_number or invitation.public_id
