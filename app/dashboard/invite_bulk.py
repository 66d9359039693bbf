"""The dashboard's bulk invitations (spec §7.4, issue 6): upload a CSV file and see
every row checked with nothing written, then create the rows of exactly the file
previewed, each through the service the admin API and the CLI call. The links of
invitations that send no message can be downloaded once, as a CSV file, by the person
who made them, for a short time (app/invitations/link_exports.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.access import refuse_roles_beyond_caller
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.invitation_forms import BulkCreateForm, BulkUploadForm, LinkDownloadForm
from app.errors import DomainError
from app.extensions import db
from app.invitations import bulk_csv, creation, link_exports
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.models import utcnow
from app.web.refusals import refusal_text

#: Largest CSV accepted (its signed copy travels back in the confirmation form).
MAX_CSV_BYTES = 256 * 1024


class UnusableFile(DomainError):
    """An upload that cannot be read as a bulk CSV (nothing is checked or written)."""


@dataclass(frozen=True)
class Result:
    """One line of the file, as the results page shows it."""

    line: int
    address: str
    #: The invitation's public id, when it was created.
    created: str | None = None
    #: Whether the created invitation sends no message (its link is in the download).
    link_only: bool = False
    #: Why it was not created.
    refusal: str | None = None


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
        form.file.errors = [refusal_text(exc.description)]
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
        upload.file.errors = [
            _("The checked file is too old or was altered. Please upload it again.")
        ]
        return _upload_page(upload, 400)
    rows = _rows(text)
    # A row without lang: the invitee's browser (as the invite form's "Automatic").
    outcomes = creation.create_each([_item(row) for _line, row in rows], actor())
    results = [
        _result(line, row, outcome) for (line, row), outcome in zip(rows, outcomes, strict=True)
    ]
    kept = link_exports.keep(
        [o for o in outcomes if isinstance(o, Issued) and not o.invitation.notify], actor()
    )
    created = sum(1 for result in results if result.created)
    return render_template(
        "dashboard/invitations/bulk_results.html",
        results=results,
        created=created,
        failed=len(results) - created,
        download=LinkDownloadForm(formdata=None, export=kept[0]) if kept else None,
        export=kept[1] if kept else None,
    )


@bp.post("/invitations/bulk/links")
@requires("invitations.create")
def invitations_bulk_links():
    """The links of a bulk upload's silent invitations as a CSV file: once, only for the
    person who made them, while they are kept (then every answer is the same refusal)."""
    form = LinkDownloadForm()
    text = link_exports.take(form.export.data, actor()) if form.validate_on_submit() else None
    if text is None:
        minutes = link_exports.LIFETIME.seconds // 60
        return render_template("dashboard/invitations/links_gone.html", minutes=minutes), 410
    filename = f"invitation-links-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _result(line: int, row: dict[str, str], outcome: Issued | DomainError) -> Result:
    address = row.get("email") or row.get("mobile_number") or ""
    if isinstance(outcome, Issued):
        invitation = outcome.invitation
        return Result(line, address, invitation.public_id, not invitation.notify)
    return Result(line, address, refusal=outcome.description)


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
        raise UnusableFile(_("Choose a CSV file."))
    content = upload.stream.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise UnusableFile(_("The file is larger than %(kb)s KB.", kb=str(MAX_CSV_BYTES // 1024)))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableFile(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from None


def _rows(text: str) -> list[bulk_csv.Row]:
    """The file's rows (the CLI's CSV rules), within the bulk limit and not none."""
    rows = bulk_csv.read_rows(text)
    limit = current_app.config["BULK_INVITATION_LIMIT"]
    if not rows:
        raise UnusableFile(_("The file has no rows below its header."))
    if len(rows) > limit:
        raise UnusableFile(
            _(
                "The file has %(rows)s rows; at most %(limit)s are accepted at once.",
                rows=str(len(rows)),
                limit=str(limit),
            )
        )
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
        creation.check(item)
    except DomainError as exc:
        return exc
    return None


def _signer() -> URLSafeTimedSerializer:
    # Signed so the create step gets exactly the file this person previewed, recently.
    secret = current_app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="vestibule.dashboard.bulk-invitations")


def _preview_lifetime() -> int:
    return current_app.config["WTF_CSRF_TIME_LIMIT"] or 3600
