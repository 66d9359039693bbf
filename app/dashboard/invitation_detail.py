"""The dashboard's page of one invitation (spec §7.4, issue 6): every field, the state
and the history of events, and the resend and revoke buttons, each asking first and
then calling the service the admin API calls (app/invitations). A new link made by a
resend is shown in that answer only (only its hash is stored)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select

from app.access import refuse_invitation_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.i18n import add_messages
from app.dashboard.invitation_forms import ConfirmForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import queries, service, states
from app.invitations.errors import InvitationNotFound
from app.invitations.issued import Issued
from app.models import Account, Invitation
from app.web.i18n import translate as t

add_messages(
    {
        "en": {
            "dash.inv.invitation": "Invitation",
            "dash.inv.id": "ID",
            "dash.inv.invited_by": "Invited by",
            "dash.inv.sent_at": "Sent",
            "dash.inv.resent_count": "Times resent",
            "dash.inv.accepted_at": "Accepted",
            "dash.inv.accepted_sub": "Account (sub)",
            "dash.inv.revoked_at": "Revoked",
            "dash.inv.rejected_at": "Declined",
            "dash.inv.short_link_expires_at": "Short link works until",
            "dash.inv.same_email_short": "Must register with this email",
            "dash.inv.notify_short": "Sends messages",
            "dash.inv.custom_fields_short": "Registration fields",
            "dash.inv.public_metadata_short": "Public metadata",
            "dash.inv.yes": "yes",
            "dash.inv.no": "no",
            "dash.inv.link_title": "The invitation link",
            "dash.inv.link_once": "Copy it now and pass it on: it is shown only this once, "
            "and Vestibule keeps only a hash of it.",
            "dash.inv.short_link": "Short link (works until {until})",
            "dash.inv.full_link": "Full link (works as long as the invitation)",
            "dash.inv.copy_hint": "Select the field and copy it (Ctrl+C or ⌘C).",
            "dash.inv.history": "History",
            "dash.inv.change": "{before} → {after}",
            "dash.inv.event.invitation.created": "Created",
            "dash.inv.event.invitation.sent": "Message sent",
            "dash.inv.event.invitation.resent": "Resent with a new link",
            "dash.inv.event.invitation.accepted": "Accepted",
            "dash.inv.event.invitation.revoked": "Revoked",
            "dash.inv.event.invitation.rejected": "Declined",
            "dash.inv.event.invitation.expired": "Expired",
            "dash.inv.actor.system": "Vestibule (automatic)",
            "dash.inv.actor.cli": "the vestibule command",
            "dash.inv.actor.client": "client {client}",
            "dash.inv.by": "by {actor}",
            "dash.inv.resend": "Resend",
            "dash.inv.revoke": "Revoke",
            "dash.inv.back": "Back to the invitations",
            "dash.inv.resend_question": "Resend the invitation to {address}?",
            "dash.inv.resend_explain": "A new link is made and the old one stops working at once. "
            "The invitation's lifetime starts again.",
            "dash.inv.resend_notify": "The person gets the new link in a message.",
            "dash.inv.resend_no_notify": "This invitation sends no messages: you will see the new "
            "link once, to pass on yourself.",
            "dash.inv.revoke_question": "Revoke the invitation to {address}?",
            "dash.inv.revoke_explain": "Its links stop working at once. This cannot be undone: to "
            "invite the person again, create a new invitation.",
            "dash.inv.yes_resend": "Yes, resend",
            "dash.inv.yes_revoke": "Yes, revoke",
            "dash.inv.resent": "A new link was made for {address}.",
            "dash.inv.resent_sent": "The invitation was sent again to {address}, with a new link.",
            "dash.inv.revoked": "The invitation to {address} was revoked.",
            "dash.inv.not_pending": "This invitation is no longer open ({state}): it cannot be "
            "resent or revoked.",
            "dash.inv.not_found": "No such invitation",
            "dash.inv.not_found_hint": "There is no invitation with this ID. It may have been "
            "deleted, or the address is incomplete.",
        },
        "de": {
            "dash.inv.invitation": "Einladung",
            "dash.inv.id": "ID",
            "dash.inv.invited_by": "Eingeladen von",
            "dash.inv.sent_at": "Gesendet",
            "dash.inv.resent_count": "Erneut gesendet (Anzahl)",
            "dash.inv.accepted_at": "Angenommen",
            "dash.inv.accepted_sub": "Konto (sub)",
            "dash.inv.revoked_at": "Widerrufen",
            "dash.inv.rejected_at": "Abgelehnt",
            "dash.inv.short_link_expires_at": "Kurzlink gültig bis",
            "dash.inv.same_email_short": "Muss sich mit dieser E-Mail registrieren",
            "dash.inv.notify_short": "Sendet Nachrichten",
            "dash.inv.custom_fields_short": "Registrierungsfelder",
            "dash.inv.public_metadata_short": "Öffentliche Metadaten",
            "dash.inv.yes": "ja",
            "dash.inv.no": "nein",
            "dash.inv.link_title": "Der Einladungslink",
            "dash.inv.link_once": "Kopieren Sie ihn jetzt und geben Sie ihn weiter: Er wird nur "
            "dieses eine Mal angezeigt, Vestibule speichert nur einen Hash davon.",
            "dash.inv.short_link": "Kurzlink (gültig bis {until})",
            "dash.inv.full_link": "Vollständiger Link (gültig, solange die Einladung gilt)",
            "dash.inv.copy_hint": "Feld auswählen und kopieren (Strg+C oder ⌘C).",
            "dash.inv.history": "Verlauf",
            "dash.inv.change": "{before} → {after}",
            "dash.inv.event.invitation.created": "Erstellt",
            "dash.inv.event.invitation.sent": "Nachricht gesendet",
            "dash.inv.event.invitation.resent": "Mit neuem Link erneut gesendet",
            "dash.inv.event.invitation.accepted": "Angenommen",
            "dash.inv.event.invitation.revoked": "Widerrufen",
            "dash.inv.event.invitation.rejected": "Abgelehnt",
            "dash.inv.event.invitation.expired": "Abgelaufen",
            "dash.inv.actor.system": "Vestibule (automatisch)",
            "dash.inv.actor.cli": "der Befehl vestibule",
            "dash.inv.actor.client": "Client {client}",
            "dash.inv.by": "von {actor}",
            "dash.inv.resend": "Erneut senden",
            "dash.inv.revoke": "Widerrufen",
            "dash.inv.back": "Zurück zu den Einladungen",
            "dash.inv.resend_question": "Einladung an {address} erneut senden?",
            "dash.inv.resend_explain": "Ein neuer Link wird erzeugt, der alte funktioniert sofort "
            "nicht mehr. Die Laufzeit der Einladung beginnt neu.",
            "dash.inv.resend_notify": "Die Person erhält den neuen Link in einer Nachricht.",
            "dash.inv.resend_no_notify": "Diese Einladung sendet keine Nachrichten: Sie sehen den "
            "neuen Link einmal, um ihn selbst weiterzugeben.",
            "dash.inv.revoke_question": "Einladung an {address} widerrufen?",
            "dash.inv.revoke_explain": "Ihre Links funktionieren sofort nicht mehr. Das lässt sich "
            "nicht rückgängig machen: Um die Person erneut einzuladen, erstellen Sie eine neue "
            "Einladung.",
            "dash.inv.yes_resend": "Ja, erneut senden",
            "dash.inv.yes_revoke": "Ja, widerrufen",
            "dash.inv.resent": "Für {address} wurde ein neuer Link erzeugt.",
            "dash.inv.resent_sent": "Die Einladung wurde mit neuem Link erneut an {address} "
            "gesendet.",
            "dash.inv.revoked": "Die Einladung an {address} wurde widerrufen.",
            "dash.inv.not_pending": "Diese Einladung ist nicht mehr offen ({state}): Sie kann "
            "weder erneut gesendet noch widerrufen werden.",
            "dash.inv.not_found": "Diese Einladung gibt es nicht",
            "dash.inv.not_found_hint": "Es gibt keine Einladung mit dieser ID. Vielleicht wurde "
            "sie gelöscht, oder die Adresse ist unvollständig.",
        },
    }
)


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
        flash(t("dash.inv.resent_sent", address=address(invitation)))
        return to_detail(invitation)
    flash(t("dash.inv.resent", address=address(invitation)))
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
    flash(t("dash.inv.revoked", address=address(invitation)))
    return to_detail(invitation)


@bp.errorhandler(InvitationNotFound)
def _not_found(exc: InvitationNotFound):
    return render_template("dashboard/invitations/not_found.html"), 404


def _confirm_page(invitation: Invitation, action: str, form: ConfirmForm):
    """ "Are you sure?", or back to the detail when the state no longer allows it."""
    if not _pending(invitation):
        state = t(f"dash.inv.state.{service.state_of(invitation)}")
        flash(t("dash.inv.not_pending", state=state), "error")
        return to_detail(invitation)
    return render_template(
        "dashboard/invitations/confirm.html", invitation=invitation, action=action, form=form
    )


def _refused(invitation: Invitation, exc: DomainError):
    """A change the service refused (another person changed it meanwhile)."""
    db.session.rollback()
    flash(exc.description, "error")
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
        issued=issued,
        address=address(invitation),
    )
    return page, status


def _people(actors: list[str]) -> dict[str, str]:
    """How each actor label is shown: an account's email, a client, the CLI or the system."""
    subs = {label.removeprefix("account:") for label in actors if label.startswith("account:")}
    emails = {}
    if subs:
        rows = db.session.execute(select(Account.sub, Account.email).where(Account.sub.in_(subs)))
        emails = {f"account:{sub}": email for sub, email in rows}
    return {label: emails.get(label) or _actor_name(label) for label in actors}


def _actor_name(label: str) -> str:
    if label.startswith("client:"):
        return t("dash.inv.actor.client", client=label.removeprefix("client:"))
    return t(f"dash.inv.actor.{label}") if label in ("system", "cli") else label


def to_detail(invitation: Invitation):
    """Back to the invitation's page (303, so a reload does not post again)."""
    return redirect(url_for(".invitations_detail", invitation_id=invitation.public_id), 303)


def _pending(invitation: Invitation) -> bool:
    return service.state_of(invitation) in states.PENDING


def address(invitation: Invitation) -> str:
    """How pages and messages name the invitee: email, else mobile number, else the id."""
    return invitation.email or invitation.mobile_number or invitation.public_id
