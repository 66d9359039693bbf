"""The dashboard's bulk invitations (spec §7.4, issue 6): upload a CSV file and see
every row checked with nothing written, then create the rows of exactly the file
previewed, each through the service the admin API and the CLI call. Links of
invitations that send no message are shown once, in the results page."""

from __future__ import annotations

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.access import refuse_roles_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.i18n import add_messages
from app.dashboard.invitation_forms import BulkCreateForm, BulkUploadForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import bulk_csv, creation
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.web.i18n import accept_languages
from app.web.i18n import translate as t

#: Largest CSV accepted (its signed copy travels back in the confirmation form).
MAX_CSV_BYTES = 256 * 1024

add_messages(
    {
        "en": {
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
            "dash.inv.bulk_too_many": "The file has {rows} rows; at most {limit} are accepted "
            "at once.",
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
)


class UnusableFile(DomainError):
    """An upload that cannot be read as a bulk CSV (nothing is checked or written)."""


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
    outcomes = creation.create_each([_item(row) for _, row in rows], actor(), accept_languages())
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
        creation.check(item, accept_languages())
    except DomainError as exc:
        return exc
    return None


def _signer() -> URLSafeTimedSerializer:
    # Signed so the create step gets exactly the file this person previewed, recently.
    secret = current_app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="vestibule.dashboard.bulk-invitations")


def _preview_lifetime() -> int:
    return current_app.config["WTF_CSRF_TIME_LIMIT"] or 3600
