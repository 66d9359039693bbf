"""Dashboard: clients (spec §7.4), for administrators only. List, register, edit and
rotate a secret through the service the admin API uses (app/api/clients.py).

A secret is shown once, in the response to the POST that made it: never in a URL,
a flash message or a log line. Pages are ``Cache-Control: no-store`` (app/security.py).
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for

from app.clients import service
from app.dashboard import bp
from app.dashboard.access import requires
from app.dashboard.admin_forms import ConfirmForm, read_cursor, show_refusal
from app.dashboard.client_forms import ClientSettingsForm, NewClientForm
from app.dashboard.i18n import add_messages
from app.errors import DomainError
from app.models import Client
from app.pagination import encode_cursor
from app.web.i18n import translate as t

#: Rows on one page of the list.
PAGE_SIZE = 50

add_messages(
    {
        "en": {
            "dash.clients.register": "Register a client",
            "dash.clients.name": "Name",
            "dash.clients.client_id": "Client ID",
            "dash.clients.client_id_hint": "Generated for you; you may choose another one. "
            "Letters, digits, '.', '_', '~' or '-'; at most 64. It cannot change later.",
            "dash.clients.bad_id": "Letters, digits, '.', '_', '~' or '-'; at most 64.",
            "dash.clients.type": "Client type",
            "dash.clients.auth_client_secret_basic": "Confidential: secret in the Authorization "
            "header (client_secret_basic)",
            "dash.clients.auth_client_secret_post": "Confidential: secret in the request body "
            "(client_secret_post)",
            "dash.clients.auth_none": "Public: no secret, PKCE always (none)",
            "dash.clients.public": "Public",
            "dash.clients.confidential": "Confidential",
            "dash.clients.redirect_uris": "Redirect URIs",
            "dash.clients.post_logout_uris": "Post-logout redirect URIs",
            "dash.clients.uris_hint": "One per line; compared byte for byte. https, or http for "
            "127.0.0.1 and localhost.",
            "dash.clients.initiate_login_uri": "Initiate login URI",
            "dash.clients.initiate_login_hint": "The client's login route that invitation links "
            "land on.",
            "dash.clients.scope": "Scopes",
            "dash.clients.grant_types": "Grant types",
            "dash.clients.first_party": "First-party: skip the consent screen",
            "dash.clients.first_party_short": "First-party",
            "dash.clients.require_pkce": "Require PKCE (S256)",
            "dash.clients.require_pkce_hint": "Public clients always need PKCE. Without it a "
            "confidential client's OpenID Connect requests must carry a nonce.",
            "dash.clients.signup_mode": "Sign-up mode",
            "dash.clients.signup_global": "Follow the server's setting",
            "dash.clients.signup_public": "Public: anyone may register",
            "dash.clients.signup_restricted": "Restricted: only with an invitation",
            "dash.clients.signup_closed": "Closed: no registration",
            "dash.clients.create": "Register",
            "dash.clients.none": "No clients yet.",
            "dash.clients.back": "All clients",
            "dash.clients.yes": "yes",
            "dash.clients.no": "no",
            "dash.clients.created": "Registered",
            "dash.clients.rotated_at": "Secret last replaced",
            "dash.clients.never": "never",
            "dash.clients.edit": "Edit",
            "dash.clients.save": "Save",
            "dash.clients.cancel": "Cancel",
            "dash.clients.saved": "The client's settings are saved.",
            "dash.clients.registered": "{name} is registered.",
            "dash.clients.rotate": "Replace the secret",
            "dash.clients.rotate_title": "Replace the secret of {name}?",
            "dash.clients.rotate_hint": "A new secret is made and shown once. The current one "
            "stops working at once: the client fails until it is given the new one.",
            "dash.clients.no_secret": "Public clients have no secret.",
            "dash.clients.issued_title": "The secret of {name}",
            "dash.clients.secret": "Client secret",
            "dash.clients.secret_once": "Copy it now and keep it safe: it is shown only this "
            "once, and Vestibule stores only a hash of it.",
            "dash.clients.to_client": "Go to the client's page",
        },
        "de": {
            "dash.clients.register": "Client registrieren",
            "dash.clients.name": "Name",
            "dash.clients.client_id": "Client-ID",
            "dash.clients.client_id_hint": "Für Sie erzeugt; Sie können eine andere wählen. "
            "Buchstaben, Ziffern, '.', '_', '~' oder '-'; höchstens 64. Sie lässt sich später "
            "nicht ändern.",
            "dash.clients.bad_id": "Buchstaben, Ziffern, '.', '_', '~' oder '-'; höchstens 64.",
            "dash.clients.type": "Art des Clients",
            "dash.clients.auth_client_secret_basic": "Vertraulich: Geheimnis im Authorization-"
            "Header (client_secret_basic)",
            "dash.clients.auth_client_secret_post": "Vertraulich: Geheimnis im Anfragekörper "
            "(client_secret_post)",
            "dash.clients.auth_none": "Öffentlich: kein Geheimnis, immer PKCE (none)",
            "dash.clients.public": "Öffentlich",
            "dash.clients.confidential": "Vertraulich",
            "dash.clients.redirect_uris": "Redirect-URIs",
            "dash.clients.post_logout_uris": "Redirect-URIs nach der Abmeldung",
            "dash.clients.uris_hint": "Eine pro Zeile; Byte für Byte verglichen. https, oder http "
            "für 127.0.0.1 und localhost.",
            "dash.clients.initiate_login_uri": "Login-Einstiegs-URI",
            "dash.clients.initiate_login_hint": "Die Login-Route des Clients, auf der "
            "Einladungslinks landen.",
            "dash.clients.scope": "Scopes",
            "dash.clients.grant_types": "Grant-Typen",
            "dash.clients.first_party": "Eigene Anwendung: ohne Zustimmungsseite",
            "dash.clients.first_party_short": "Eigene Anwendung",
            "dash.clients.require_pkce": "PKCE verlangen (S256)",
            "dash.clients.require_pkce_hint": "Öffentliche Clients brauchen immer PKCE. Ohne PKCE "
            "müssen OpenID-Connect-Anfragen eines vertraulichen Clients eine Nonce tragen.",
            "dash.clients.signup_mode": "Registrierungsmodus",
            "dash.clients.signup_global": "Der Einstellung des Servers folgen",
            "dash.clients.signup_public": "Offen: alle dürfen sich registrieren",
            "dash.clients.signup_restricted": "Eingeschränkt: nur mit Einladung",
            "dash.clients.signup_closed": "Geschlossen: keine Registrierung",
            "dash.clients.create": "Registrieren",
            "dash.clients.none": "Noch keine Clients.",
            "dash.clients.back": "Alle Clients",
            "dash.clients.yes": "ja",
            "dash.clients.no": "nein",
            "dash.clients.created": "Registriert",
            "dash.clients.rotated_at": "Geheimnis zuletzt ersetzt",
            "dash.clients.never": "nie",
            "dash.clients.edit": "Bearbeiten",
            "dash.clients.save": "Speichern",
            "dash.clients.cancel": "Abbrechen",
            "dash.clients.saved": "Die Einstellungen des Clients sind gespeichert.",
            "dash.clients.registered": "{name} ist registriert.",
            "dash.clients.rotate": "Geheimnis ersetzen",
            "dash.clients.rotate_title": "Geheimnis von {name} ersetzen?",
            "dash.clients.rotate_hint": "Ein neues Geheimnis wird erzeugt und einmal angezeigt. "
            "Das bisherige gilt sofort nicht mehr: Der Client schlägt fehl, bis er das neue "
            "bekommt.",
            "dash.clients.no_secret": "Öffentliche Clients haben kein Geheimnis.",
            "dash.clients.issued_title": "Das Geheimnis von {name}",
            "dash.clients.secret": "Client-Geheimnis",
            "dash.clients.secret_once": "Kopieren Sie es jetzt und bewahren Sie es sicher auf: "
            "Es wird nur dieses eine Mal angezeigt, Vestibule speichert nur einen Hash davon.",
            "dash.clients.to_client": "Zur Seite des Clients",
        },
    }
)


@bp.get("/clients")
@requires("clients.read")
def clients():
    """Every client, oldest first, one page at a time."""
    try:
        after = read_cursor("clients", request.args.get("after"))
    except ValueError as exc:
        abort(400, description=str(exc))
    page = service.page_of_clients(after, PAGE_SIZE)
    next_cursor = encode_cursor("clients", page.next_after)
    return render_template("dashboard/clients/list.html", page=page, next_cursor=next_cursor)


@bp.route("/clients/new", methods=["GET", "POST"])
@requires("clients.write")
def clients_new():
    """Register a client; a confidential one's secret is shown in this response, once.

    The form comes with a fresh client_id (as the service would generate it), so a
    form sent twice (reload, back button) is refused as taken, not registered twice.
    """
    form = NewClientForm(data={"client_id": secrets.token_hex(16)})
    if not form.validate_on_submit():
        return _form_page("dashboard/clients/new.html", form, 400 if form.is_submitted() else 200)
    try:
        client, secret = service.create_client(
            form.name.data.strip(),
            form.settings()["redirect_uris"],
            **form.arguments(),
            **service.policy(),
        )
    except DomainError as exc:
        return _form_page("dashboard/clients/new.html", form, show_refusal(form, exc))
    if secret is None:
        flash(t("dash.clients.registered", name=client.name))
        return _to_client(client)
    return _issued_page(client, secret)


@bp.get("/clients/<client_id>")
@requires("clients.read")
def clients_detail(client_id: str):
    """A client's settings (never its secret)."""
    client = service.get_client(client_id)
    return render_template("dashboard/clients/detail.html", client=client)


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
@requires("clients.write")
def clients_edit(client_id: str):
    """Change a client's name, URIs, scopes, first-party flag, PKCE policy, sign-up mode."""
    client = service.get_client(client_id)
    form = ClientSettingsForm(data=ClientSettingsForm.data_of(client))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _form_page("dashboard/clients/edit.html", form, status, client=client)
    try:
        service.update_client(client_id, form.settings(), **service.policy())
    except DomainError as exc:
        status = show_refusal(form, exc)
        return _form_page("dashboard/clients/edit.html", form, status, client=client)
    flash(t("dash.clients.saved"))
    return _to_client(client)


@bp.route("/clients/<client_id>/rotate-secret", methods=["GET", "POST"])
@requires("clients.write")
def clients_rotate(client_id: str):
    """Confirm, then replace a confidential client's secret and show the new one once."""
    client = service.get_client(client_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("dashboard/clients/rotate.html", client=client, form=form)
    try:
        secret = service.rotate_secret(client_id)
    except DomainError as exc:
        form.form_errors.append(exc.description)
        page = render_template("dashboard/clients/rotate.html", client=client, form=form)
        return page, exc.status
    return _issued_page(client, secret)


def _form_page(template: str, form, status: int, **context):
    return render_template(template, form=form, **context), status


def _issued_page(client: Client, secret: str) -> str:
    return render_template("dashboard/clients/issued.html", client=client, secret=secret)


def _to_client(client: Client):
    return redirect(url_for("dashboard.clients_detail", client_id=client.client_id), 303)
