"""The dashboard's invite form (spec §7.4, issue 6): one invitation through the service
the admin API calls (app/invitations). A link exists only right after it is made (only
its hash is stored), so an invitation that sends no message answers with its detail
page showing the link, never with a redirect: the link never goes into a URL, the
session or the browser's history."""

from __future__ import annotations

from flask import flash, render_template

from app.access import refuse_roles_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.i18n import add_messages
from app.dashboard.invitation_detail import address, detail_page, to_detail
from app.dashboard.invitation_forms import InviteForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import creation
from app.web.i18n import accept_languages
from app.web.i18n import translate as t

add_messages(
    {
        "en": {
            "dash.inv.who": "Who",
            "dash.inv.where": "Where to",
            "dash.inv.message": "Message",
            "dash.inv.more": "Pre-filled data",
            "dash.inv.email": "Email",
            "dash.inv.mobile_number": "Mobile number",
            "dash.inv.mobile_hint": "International format, e.g. +4915112345678.",
            "dash.inv.address_hint": "An email, a mobile number, or both.",
            "dash.inv.given_name": "Given name",
            "dash.inv.family_name": "Family name",
            "dash.inv.no_client": "None: register on Vestibule",
            "dash.inv.client_hint": "Only clients with a registered initiate_login_uri are listed.",
            "dash.inv.groups_hint": "Given to the person when they accept.",
            "dash.inv.none_defined": "None defined yet.",
            "dash.inv.redirect_url": "Redirect URL",
            "dash.inv.redirect_hint": "Only without a client: where the person goes after "
            "registering. It must be on the allow-list.",
            "dash.inv.allow_same_email": "The person must register with this email address",
            "dash.inv.allow_same_email_hint": "Always on when the invitation grants admin, "
            "secondary_admin or user_invite; those need an email address.",
            "dash.inv.lang": "Language",
            "dash.inv.lang_auto": "Automatic",
            "dash.inv.template_key": "Message template",
            "dash.inv.notify": "Send the invitation now",
            "dash.inv.notify_hint": "Without it, you get the link to pass on yourself. It is "
            "shown only once.",
            "dash.inv.expires_in_days": "Expires in (days)",
            "dash.inv.expires_hint": "Leave empty for {days} days.",
            "dash.inv.custom_fields": "Registration fields (JSON object)",
            "dash.inv.public_metadata": "Public metadata (JSON object)",
            "dash.inv.json_hint": 'Optional, e.g. {"plan": "pro"}.',
            "dash.inv.json_invalid": "This is not valid JSON (line {line}, column {column}).",
            "dash.inv.json_object": 'This must be a JSON object, e.g. {"plan": "pro"}.',
            "dash.inv.days_range": "A whole number of days from 1 to {max}.",
            "dash.inv.create": "Create the invitation",
            "dash.inv.cancel": "Cancel",
            "dash.inv.not_created": "The invitation was not created.",
            "dash.inv.open_existing": "Open the pending invitation",
            "dash.inv.created": "Invitation created for {address}.",
            "dash.inv.created_sent": "Invitation created; the message to {address} is on its way.",
        },
        "de": {
            "dash.inv.who": "Wer",
            "dash.inv.where": "Wohin",
            "dash.inv.message": "Nachricht",
            "dash.inv.more": "Vorausgefüllte Daten",
            "dash.inv.email": "E-Mail",
            "dash.inv.mobile_number": "Mobilnummer",
            "dash.inv.mobile_hint": "Internationales Format, z. B. +4915112345678.",
            "dash.inv.address_hint": "Eine E-Mail-Adresse, eine Mobilnummer oder beides.",
            "dash.inv.given_name": "Vorname",
            "dash.inv.family_name": "Nachname",
            "dash.inv.no_client": "Keiner: Registrierung bei Vestibule",
            "dash.inv.client_hint": "Nur Clients mit eingetragener initiate_login_uri stehen "
            "zur Wahl.",
            "dash.inv.groups_hint": "Erhält die Person, wenn sie annimmt.",
            "dash.inv.none_defined": "Noch keine angelegt.",
            "dash.inv.redirect_url": "Weiterleitungs-URL",
            "dash.inv.redirect_hint": "Nur ohne Client: wohin die Person nach der Registrierung "
            "kommt. Sie muss auf der Freigabeliste stehen.",
            "dash.inv.allow_same_email": "Die Person muss sich mit dieser E-Mail-Adresse "
            "registrieren",
            "dash.inv.allow_same_email_hint": "Immer so, wenn die Einladung admin, secondary_admin "
            "oder user_invite vergibt; diese brauchen eine E-Mail-Adresse.",
            "dash.inv.lang": "Sprache",
            "dash.inv.lang_auto": "Automatisch",
            "dash.inv.template_key": "Nachrichtenvorlage",
            "dash.inv.notify": "Einladung jetzt senden",
            "dash.inv.notify_hint": "Ohne dies erhalten Sie den Link, um ihn selbst weiterzugeben. "
            "Er wird nur einmal angezeigt.",
            "dash.inv.expires_in_days": "Läuft ab in (Tagen)",
            "dash.inv.expires_hint": "Leer lassen für {days} Tage.",
            "dash.inv.custom_fields": "Registrierungsfelder (JSON-Objekt)",
            "dash.inv.public_metadata": "Öffentliche Metadaten (JSON-Objekt)",
            "dash.inv.json_hint": 'Optional, z. B. {"plan": "pro"}.',
            "dash.inv.json_invalid": "Das ist kein gültiges JSON (Zeile {line}, Spalte {column}).",
            "dash.inv.json_object": 'Hier gehört ein JSON-Objekt hin, z. B. {"plan": "pro"}.',
            "dash.inv.days_range": "Eine ganze Zahl von Tagen von 1 bis {max}.",
            "dash.inv.create": "Einladung erstellen",
            "dash.inv.cancel": "Abbrechen",
            "dash.inv.not_created": "Die Einladung wurde nicht erstellt.",
            "dash.inv.open_existing": "Offene Einladung öffnen",
            "dash.inv.created": "Einladung für {address} erstellt.",
            "dash.inv.created_sent": "Einladung erstellt; die Nachricht an {address} ist "
            "unterwegs.",
        },
    }
)


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
        issued = creation.create(data, actor(), accept_languages())
    except DomainError as exc:
        db.session.rollback()
        form.show_refusal(exc)
        return _invite_page(form, exc.status, conflict=exc.extra.get("invitation_id"))
    if issued.invitation.notify:
        flash(t("dash.inv.created_sent", address=address(issued.invitation)))
        return to_detail(issued.invitation)
    flash(t("dash.inv.created", address=address(issued.invitation)))
    return detail_page(issued.invitation, issued, status=201)


def _invite_page(form: InviteForm, status: int, conflict: str | None = None):
    page = render_template("dashboard/invitations/new.html", form=form, conflict=conflict)
    return page, status
