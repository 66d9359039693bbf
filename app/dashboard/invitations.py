"""The dashboard's invitations section (spec §7.4, issue 6): list with filters and the
funnel, invite one person, bulk CSV upload, detail with history, resend and revoke.

Pages parse, call the invitation services the admin API calls (app/invitations), and
render. A link exists only right after create or resend (only its hash is stored), so
those answers render the page with the link instead of redirecting: the link never
goes into a URL, the session or the browser's history.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.access import refuse_invitation_beyond_caller, refuse_roles_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.funnel import duration, funnel
from app.dashboard.i18n import add_messages
from app.dashboard.invitation_forms import (
    BulkCreateForm,
    BulkUploadForm,
    ConfirmForm,
    InvitationFilterForm,
    InviteForm,
)
from app.errors import DomainError
from app.extensions import db
from app.invitations import bulk_csv, queries, service, states
from app.invitations.errors import InvitationNotFound
from app.invitations.service import InvitationInput, Issued
from app.models import Account, Invitation
from app.web.i18n import accept_languages
from app.web.i18n import translate as t

#: Invitations per list page.
PAGE_SIZE = 25
#: Largest CSV accepted (its signed copy travels back in the confirmation form).
MAX_CSV_BYTES = 256 * 1024


class UnusableFile(DomainError):
    """An upload that cannot be read as a bulk CSV (nothing is checked or written)."""


# -- list ------------------------------------------------------------------------------


@bp.get("/invitations")
@requires("invitations.read")
def invitations():
    """Invitations newest first, filtered, a page at a time, under the funnel chart."""
    form = InvitationFilterForm(request.args)
    page = queries.search(form.criteria(request.args.get("cursor"), PAGE_SIZE))
    scope, tally = _funnel_scope(form.filters())
    next_url = None
    if page.next_cursor:
        next_url = url_for(".invitations", **form.filters(), cursor=page.next_cursor)
    return render_template(
        "dashboard/invitations/list.html",
        form=form,
        page=page,
        chart=funnel(tally),
        scope=scope,
        paged=bool(request.args.get("cursor")),
        next_url=next_url,
        state_of=service.state_of,
        duration=duration,
    )


def _funnel_scope(filters: dict[str, str]) -> tuple[dict[str, str], queries.Tally]:
    """The stats that match the filters: one client's, one group's, or all of them."""
    stats = queries.stats()
    if "client_id" in filters:
        return {"client": filters["client_id"]}, _tally(stats.by_client, filters["client_id"])
    if "group" in filters:
        return {"group": filters["group"]}, _tally(stats.by_group, filters["group"])
    return {}, stats.overall


def _tally(tallies: dict, key: str) -> queries.Tally:
    return tallies.get(key) or queries.Tally()


@bp.errorhandler(queries.InvalidCursor)
def _stale_cursor(exc: queries.InvalidCursor):
    """A page link from another server key or sort order: start on the first page."""
    flash(t("dash.inv.bad_cursor"), "error")
    return redirect(url_for(".invitations"), 303)


# -- invite one ------------------------------------------------------------------------


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
        issued = service.create(data, actor(), accept_languages())
    except DomainError as exc:
        db.session.rollback()
        form.show_refusal(exc)
        return _invite_page(form, exc.status, conflict=exc.extra.get("invitation_id"))
    address = _address(issued.invitation)
    if issued.invitation.notify:
        flash(t("dash.inv.created_sent", address=address))
        return _to_detail(issued.invitation)
    flash(t("dash.inv.created", address=address))
    return _detail_page(issued.invitation, issued, status=201)


def _invite_page(form: InviteForm, status: int, conflict: str | None = None):
    page = render_template("dashboard/invitations/new.html", form=form, conflict=conflict)
    return page, status


# -- bulk ------------------------------------------------------------------------------


@bp.route("/invitations/bulk", methods=["GET", "POST"])
@requires("invitations.create")
def invitations_bulk():
    """Step 1: upload a CSV and see every row checked; nothing is written."""
    form = BulkUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 400 if form.is_submitted() else 200)
    try:
        text = _uploaded_text(form.file.data)
        rows = _rows(text)
    except DomainError as exc:
        form.file.errors = [exc.description]
        return _upload_page(form, 400)
    checked = [(line, row, _preview(row)) for line, row in rows]
    db.session.rollback()  # the checks only read; nothing may linger in the session
    confirm = BulkCreateForm(formdata=None, payload=_signer().dumps([actor(), text]))
    return render_template(
        "dashboard/invitations/bulk_preview.html",
        rows=checked,
        columns=[c for c in bulk_csv.BULK_COLUMNS if c in rows[0][1]],
        good=sum(1 for *_, problem in checked if problem is None),
        form=confirm,
    )


@bp.post("/invitations/bulk/create")
@requires("invitations.create")
def invitations_bulk_create():
    """Step 2: create the rows of the file previewed (every row is validated again)."""
    form = BulkCreateForm()
    try:
        by, text = _signer().loads(form.payload.data or "", max_age=_preview_lifetime())
        if by != actor():
            raise BadSignature("previewed by someone else")
    except (BadSignature, TypeError, ValueError):
        upload = BulkUploadForm(formdata=None)
        upload.file.errors = [t("dash.inv.bulk_expired")]
        return _upload_page(upload, 400)
    rows = _rows(text)
    outcomes = service.create_each([_item(row) for _, row in rows], actor(), accept_languages())
    results = [(line, row, outcome) for (line, row), outcome in zip(rows, outcomes, strict=True)]
    created = sum(1 for *_, outcome in results if isinstance(outcome, Issued))
    return render_template(
        "dashboard/invitations/bulk_results.html",
        results=results,
        created=created,
        failed=len(results) - created,
    )


def _upload_page(form: BulkUploadForm, status: int):
    page = render_template(
        "dashboard/invitations/bulk.html",
        form=form,
        columns=bulk_csv.BULK_COLUMNS,
        limit=current_app.config["BULK_INVITATION_LIMIT"],
        kilobytes=MAX_CSV_BYTES // 1024,
    )
    return page, status


def _uploaded_text(upload) -> str:
    """The uploaded file as text: UTF-8 (a byte order mark is dropped), not too large."""
    if upload is None or not getattr(upload, "filename", None):
        raise UnusableFile(t("dash.inv.bulk_no_file"))
    content = upload.stream.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise UnusableFile(t("dash.inv.bulk_too_large", kb=str(MAX_CSV_BYTES // 1024)))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableFile(t("dash.inv.bulk_not_utf8")) from None


def _rows(text: str) -> list[bulk_csv.Row]:
    """The file's rows (the CLI's CSV rules), within the bulk limit and not none."""
    rows = bulk_csv.read_rows(text)
    limit = current_app.config["BULK_INVITATION_LIMIT"]
    if not rows:
        raise UnusableFile(t("dash.inv.bulk_empty"))
    if len(rows) > limit:
        raise UnusableFile(t("dash.inv.bulk_too_many", rows=str(len(rows)), limit=str(limit)))
    return rows


def _item(row: dict[str, str]) -> InvitationInput | DomainError:
    """What ``create_each`` gets for a row: its input, or why it cannot have one."""
    try:
        data = bulk_csv.row_input(row)
        refuse_roles_beyond_caller(caller(), data.roles)
    except DomainError as exc:
        return exc
    return data


def _preview(row: dict[str, str]) -> DomainError | None:
    """Why a row would be refused now, or None: the service's checks, without a write."""
    item = _item(row)
    if isinstance(item, DomainError):
        return item
    try:
        service.check(item, accept_languages())
    except DomainError as exc:
        return exc
    return None


def _signer() -> URLSafeTimedSerializer:
    # Signed so the create step gets exactly the file this person previewed, recently.
    secret = current_app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="vestibule.dashboard.bulk-invitations")


def _preview_lifetime() -> int:
    return current_app.config["WTF_CSRF_TIME_LIMIT"] or 3600


# -- one invitation --------------------------------------------------------------------


@bp.get("/invitations/<invitation_id>")
@requires("invitations.read")
def invitations_detail(invitation_id: str):
    """Every field, the state, and the history of events."""
    return _detail_page(service.find(invitation_id))


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
        flash(t("dash.inv.resent_sent", address=_address(invitation)))
        return _to_detail(invitation)
    flash(t("dash.inv.resent", address=_address(invitation)))
    return _detail_page(issued.invitation, issued)


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
    flash(t("dash.inv.revoked", address=_address(invitation)))
    return _to_detail(invitation)


@bp.errorhandler(InvitationNotFound)
def _not_found(exc: InvitationNotFound):
    return render_template("dashboard/invitations/not_found.html"), 404


def _confirm_page(invitation: Invitation, action: str, form: ConfirmForm):
    """ "Are you sure?", or back to the detail when the state no longer allows it."""
    if not _pending(invitation):
        state = t(f"dash.inv.state.{service.state_of(invitation)}")
        flash(t("dash.inv.not_pending", state=state), "error")
        return _to_detail(invitation)
    return render_template(
        "dashboard/invitations/confirm.html", invitation=invitation, action=action, form=form
    )


def _refused(invitation: Invitation, exc: DomainError):
    """A change the service refused (another person changed it meanwhile)."""
    db.session.rollback()
    flash(exc.description, "error")
    return _to_detail(invitation)


def _detail_page(invitation: Invitation, issued: Issued | None = None, status: int = 200):
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
        address=_address(invitation),
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


def _to_detail(invitation: Invitation):
    return redirect(url_for(".invitations_detail", invitation_id=invitation.public_id), 303)


def _pending(invitation: Invitation) -> bool:
    return service.state_of(invitation) in states.PENDING


def _address(invitation: Invitation) -> str:
    return invitation.email or invitation.mobile_number or invitation.public_id


# -- strings ---------------------------------------------------------------------------

#: The section's page strings (``t("dash.inv....")``), merged into the site's catalog.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "dash.inv.invite": "Invite someone",
        "dash.inv.bulk": "Invite from a CSV file",
        "dash.inv.state.initiated": "Initiated",
        "dash.inv.state.reinitiated": "Resent",
        "dash.inv.state.accepted": "Accepted",
        "dash.inv.state.revoked": "Revoked",
        "dash.inv.state.rejected": "Declined",
        "dash.inv.state.expired": "Expired",
        # the funnel
        "dash.inv.funnel": "How invitations end",
        "dash.inv.funnel_client": "How invitations to client {client} end",
        "dash.inv.funnel_group": "How invitations into group {group} end",
        "dash.inv.funnel_desc": "Bar chart of the invitations by stage.",
        "dash.inv.stage.invited": "Invited",
        "dash.inv.stage.pending": "Still open",
        "dash.inv.stage.accepted": "Accepted",
        "dash.inv.stage.rejected": "Declined",
        "dash.inv.stage.revoked": "Revoked",
        "dash.inv.stage.expired": "Expired",
        "dash.inv.acceptance_rate": "Acceptance rate",
        "dash.inv.acceptance_rate_hint": "accepted, of those no longer open",
        "dash.inv.median": "Median time to accept",
        "dash.inv.percent": "{n}%",
        "dash.inv.minutes": "{n} min",
        "dash.inv.hours": "{n} h",
        "dash.inv.days": "{n} days",
        "dash.inv.not_yet": "not yet known",
        # filters and table
        "dash.inv.filters": "Filter the invitations",
        "dash.inv.search": "Search",
        "dash.inv.search_hint": "Part of an email, mobile number or name",
        "dash.inv.state": "State",
        "dash.inv.client": "Client",
        "dash.inv.group": "Group",
        "dash.inv.any_state": "Any state",
        "dash.inv.any_client": "Any client",
        "dash.inv.any_group": "Any group",
        "dash.inv.filter": "Show",
        "dash.inv.clear": "Clear the filters",
        "dash.inv.address": "Email or mobile",
        "dash.inv.name": "Name",
        "dash.inv.groups": "Groups",
        "dash.inv.roles": "Roles",
        "dash.inv.created_at": "Created",
        "dash.inv.expires_at": "Expires",
        "dash.inv.hosted": "none (Vestibule)",
        "dash.inv.empty": "No invitation matches.",
        "dash.inv.next": "Next page",
        "dash.inv.first": "First page",
        "dash.inv.bad_cursor": "That page link no longer works; here is the first page.",
        # the invite form
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
        # one invitation
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
        "dash.inv.created": "Invitation created for {address}.",
        "dash.inv.created_sent": "Invitation created; the message to {address} is on its way.",
        "dash.inv.resent": "A new link was made for {address}.",
        "dash.inv.resent_sent": "The invitation was sent again to {address}, with a new link.",
        "dash.inv.revoked": "The invitation to {address} was revoked.",
        "dash.inv.not_pending": "This invitation is no longer open ({state}): it cannot be "
        "resent or revoked.",
        "dash.inv.not_found": "No such invitation",
        "dash.inv.not_found_hint": "There is no invitation with this ID. It may have been "
        "deleted, or the address is incomplete.",
        # bulk
        "dash.inv.bulk_title": "Invite from a CSV file",
        "dash.inv.bulk_intro": "The first line of the file names its columns, in any order. "
        "Known columns:",
        "dash.inv.bulk_rules": "Separate several groups or roles with a semicolon. expires_in "
        "is in seconds; notify is true or false (true when empty).",
        "dash.inv.bulk_limits": "UTF-8, at most {rows} rows and {kb} KB.",
        "dash.inv.bulk_file": "CSV file",
        "dash.inv.bulk_check": "Check the file",
        "dash.inv.bulk_no_file": "Choose a CSV file.",
        "dash.inv.bulk_not_utf8": "The file is not UTF-8 text. Save it as “CSV UTF-8” and "
        "try again.",
        "dash.inv.bulk_too_large": "The file is larger than {kb} KB.",
        "dash.inv.bulk_too_many": "The file has {rows} rows; at most {limit} are accepted at once.",
        "dash.inv.bulk_empty": "The file has no rows below its header.",
        "dash.inv.bulk_expired": "The checked file is too old or was altered. Please upload it "
        "again.",
        "dash.inv.bulk_preview": "Check before creating",
        "dash.inv.bulk_preview_intro": "Nothing has been created yet. {good} of {total} rows "
        "can be created; rows with a problem will be skipped.",
        "dash.inv.bulk_recheck": "Every row is checked again when it is created, so a row "
        "can still fail then (for example the same address twice in the file).",
        "dash.inv.bulk_line": "Line",
        "dash.inv.bulk_problem": "Check",
        "dash.inv.bulk_ok": "ready",
        "dash.inv.bulk_create": "Create {good} invitations",
        "dash.inv.bulk_nothing": "No row can be created. Correct the file and upload it again.",
        "dash.inv.bulk_other": "Upload another file",
        "dash.inv.bulk_results": "Invitations from the CSV file",
        "dash.inv.bulk_results_intro": "{created} created, {failed} not created.",
        "dash.inv.bulk_result": "Result",
        "dash.inv.bulk_link": "Link (shown only now)",
        "dash.inv.bulk_links_once": "Invitations that send no message show their link here, "
        "only this once.",
        "dash.inv.bulk_created": "created",
        "dash.inv.bulk_failed": "not created",
    },
    "de": {
        "dash.inv.invite": "Person einladen",
        "dash.inv.bulk": "Aus CSV-Datei einladen",
        "dash.inv.state.initiated": "Angelegt",
        "dash.inv.state.reinitiated": "Erneut gesendet",
        "dash.inv.state.accepted": "Angenommen",
        "dash.inv.state.revoked": "Widerrufen",
        "dash.inv.state.rejected": "Abgelehnt",
        "dash.inv.state.expired": "Abgelaufen",
        "dash.inv.funnel": "Was aus den Einladungen wird",
        "dash.inv.funnel_client": "Was aus den Einladungen zum Client {client} wird",
        "dash.inv.funnel_group": "Was aus den Einladungen in die Gruppe {group} wird",
        "dash.inv.funnel_desc": "Balkendiagramm der Einladungen nach Stand.",
        "dash.inv.stage.invited": "Eingeladen",
        "dash.inv.stage.pending": "Noch offen",
        "dash.inv.stage.accepted": "Angenommen",
        "dash.inv.stage.rejected": "Abgelehnt",
        "dash.inv.stage.revoked": "Widerrufen",
        "dash.inv.stage.expired": "Abgelaufen",
        "dash.inv.acceptance_rate": "Annahmequote",
        "dash.inv.acceptance_rate_hint": "angenommen, von den nicht mehr offenen",
        "dash.inv.median": "Median bis zur Annahme",
        "dash.inv.percent": "{n} %",
        "dash.inv.minutes": "{n} Min.",
        "dash.inv.hours": "{n} Std.",
        "dash.inv.days": "{n} Tage",
        "dash.inv.not_yet": "noch unbekannt",
        "dash.inv.filters": "Einladungen filtern",
        "dash.inv.search": "Suche",
        "dash.inv.search_hint": "Teil einer E-Mail-Adresse, Mobilnummer oder eines Namens",
        "dash.inv.state": "Stand",
        "dash.inv.client": "Client",
        "dash.inv.group": "Gruppe",
        "dash.inv.any_state": "Jeder Stand",
        "dash.inv.any_client": "Jeder Client",
        "dash.inv.any_group": "Jede Gruppe",
        "dash.inv.filter": "Anzeigen",
        "dash.inv.clear": "Filter zurücksetzen",
        "dash.inv.address": "E-Mail oder Mobilnummer",
        "dash.inv.name": "Name",
        "dash.inv.groups": "Gruppen",
        "dash.inv.roles": "Rollen",
        "dash.inv.created_at": "Erstellt",
        "dash.inv.expires_at": "Läuft ab",
        "dash.inv.hosted": "keiner (Vestibule)",
        "dash.inv.empty": "Keine Einladung passt.",
        "dash.inv.next": "Nächste Seite",
        "dash.inv.first": "Erste Seite",
        "dash.inv.bad_cursor": "Dieser Seitenlink funktioniert nicht mehr; hier ist die erste "
        "Seite.",
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
        "dash.inv.client_hint": "Nur Clients mit eingetragener initiate_login_uri stehen zur Wahl.",
        "dash.inv.groups_hint": "Erhält die Person, wenn sie annimmt.",
        "dash.inv.none_defined": "Noch keine angelegt.",
        "dash.inv.redirect_url": "Weiterleitungs-URL",
        "dash.inv.redirect_hint": "Nur ohne Client: wohin die Person nach der Registrierung "
        "kommt. Sie muss auf der Freigabeliste stehen.",
        "dash.inv.allow_same_email": "Die Person muss sich mit dieser E-Mail-Adresse registrieren",
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
        "dash.inv.created": "Einladung für {address} erstellt.",
        "dash.inv.created_sent": "Einladung erstellt; die Nachricht an {address} ist unterwegs.",
        "dash.inv.resent": "Für {address} wurde ein neuer Link erzeugt.",
        "dash.inv.resent_sent": "Die Einladung wurde mit neuem Link erneut an {address} gesendet.",
        "dash.inv.revoked": "Die Einladung an {address} wurde widerrufen.",
        "dash.inv.not_pending": "Diese Einladung ist nicht mehr offen ({state}): Sie kann "
        "weder erneut gesendet noch widerrufen werden.",
        "dash.inv.not_found": "Diese Einladung gibt es nicht",
        "dash.inv.not_found_hint": "Es gibt keine Einladung mit dieser ID. Vielleicht wurde sie "
        "gelöscht, oder die Adresse ist unvollständig.",
        "dash.inv.bulk_title": "Aus CSV-Datei einladen",
        "dash.inv.bulk_intro": "Die erste Zeile der Datei nennt ihre Spalten, in beliebiger "
        "Reihenfolge. Bekannte Spalten:",
        "dash.inv.bulk_rules": "Mehrere Gruppen oder Rollen durch Semikolon trennen. "
        "expires_in in Sekunden; notify ist true oder false (leer: true).",
        "dash.inv.bulk_limits": "UTF-8, höchstens {rows} Zeilen und {kb} KB.",
        "dash.inv.bulk_file": "CSV-Datei",
        "dash.inv.bulk_check": "Datei prüfen",
        "dash.inv.bulk_no_file": "Wählen Sie eine CSV-Datei.",
        "dash.inv.bulk_not_utf8": "Die Datei ist kein UTF-8-Text. Speichern Sie sie als „CSV "
        "UTF-8“ und versuchen Sie es erneut.",
        "dash.inv.bulk_too_large": "Die Datei ist größer als {kb} KB.",
        "dash.inv.bulk_too_many": "Die Datei hat {rows} Zeilen; höchstens {limit} werden auf "
        "einmal angenommen.",
        "dash.inv.bulk_empty": "Die Datei hat unter der Kopfzeile keine Zeilen.",
        "dash.inv.bulk_expired": "Die geprüfte Datei ist zu alt oder wurde verändert. Bitte "
        "laden Sie sie erneut hoch.",
        "dash.inv.bulk_preview": "Vor dem Erstellen prüfen",
        "dash.inv.bulk_preview_intro": "Noch wurde nichts erstellt. {good} von {total} Zeilen "
        "können erstellt werden; Zeilen mit einem Problem werden übersprungen.",
        "dash.inv.bulk_recheck": "Jede Zeile wird beim Erstellen erneut geprüft und kann dann "
        "noch scheitern (etwa dieselbe Adresse zweimal in der Datei).",
        "dash.inv.bulk_line": "Zeile",
        "dash.inv.bulk_problem": "Prüfung",
        "dash.inv.bulk_ok": "bereit",
        "dash.inv.bulk_create": "{good} Einladungen erstellen",
        "dash.inv.bulk_nothing": "Keine Zeile kann erstellt werden. Korrigieren Sie die Datei "
        "und laden Sie sie erneut hoch.",
        "dash.inv.bulk_other": "Andere Datei hochladen",
        "dash.inv.bulk_results": "Einladungen aus der CSV-Datei",
        "dash.inv.bulk_results_intro": "{created} erstellt, {failed} nicht erstellt.",
        "dash.inv.bulk_result": "Ergebnis",
        "dash.inv.bulk_link": "Link (nur jetzt sichtbar)",
        "dash.inv.bulk_links_once": "Einladungen, die keine Nachricht senden, zeigen ihren "
        "Link hier, nur dieses eine Mal.",
        "dash.inv.bulk_created": "erstellt",
        "dash.inv.bulk_failed": "nicht erstellt",
    },
}

add_messages(MESSAGES)
