"""Dashboard: clients (spec §7.4), for administrators only. List, register, edit and
rotate a secret through the service the admin API uses (app/api/clients.py).

A secret is shown once, in the response to the POST that made it: never in a URL,
a flash message or a log line. Pages are ``Cache-Control: no-store`` (app/security.py).
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.clients import service
from app.dashboard import bp
from app.dashboard.access import requires
from app.dashboard.admin_forms import ConfirmForm, read_cursor, show_refusal
from app.dashboard.client_forms import ClientSettingsForm, NewClientForm
from app.errors import DomainError
from app.models import Client
from app.pagination import encode_cursor
from app.web.refusals import refusal_text

#: Rows on one page of the list.
PAGE_SIZE = 50


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
        flash(_("%(name)s is registered.", name=client.name))
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
    flash(_("The client's settings are saved."))
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
        form.form_errors.append(refusal_text(exc.description))
        page = render_template("dashboard/clients/rotate.html", client=client, form=form)
        return page, exc.status
    return _issued_page(client, secret)


def _form_page(template: str, form, status: int, **context):
    return render_template(template, form=form, **context), status


def _issued_page(client: Client, secret: str) -> str:
    return render_template("dashboard/clients/issued.html", client=client, secret=secret)


def _to_client(client: Client):
    return redirect(url_for("dashboard.clients_detail", client_id=client.client_id), 303)
