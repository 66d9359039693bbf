"""The data section: download everything as JSON, and delete the account."""

from __future__ import annotations

import json

from flask import Response, flash, get_flashed_messages, redirect, render_template, url_for

from app.accounts.credentials import WrongPassword
from app.accounts.deletion import delete_own
from app.accounts.export import export as export_data
from app.accounts.sessions import end_session
from app.accounts.throttle import TooManyFailures
from app.extensions import limiter
from app.web.account import bp
from app.web.account.forms import DeleteForm
from app.web.account.limits import account_limit, sign_in_limit, slowed_down_text
from app.web.account.page import signed_in
from app.web.i18n import set_locale
from app.web.refusals import refusal_text

#: The flashed note that lets /account/deleted say so (once, to this browser).
_DELETED = "account_deleted"


@bp.get("/export")
@limiter.limit(account_limit)
@signed_in
def export(browser):
    """Everything Vestibule holds about the person, as a JSON download."""
    body = json.dumps(export_data(browser.account), indent=2, ensure_ascii=False)
    filename = f"vestibule-account-{browser.account.sub}.json"
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/delete", methods=["GET", "POST"])
@limiter.limit(sign_in_limit, methods=["POST"])
@signed_in
def delete(browser):
    """Confirm with the password, then delete the account and sign out."""
    form = DeleteForm()
    if not form.validate_on_submit():
        return _confirm(form, 400 if form.errors else 200)
    try:
        delete_own(browser.account, form.password.data)
    except TooManyFailures as exc:
        form.password.errors.append(slowed_down_text(exc.retry_after))
        return _confirm(form, 429, {"Retry-After": str(exc.retry_after)})
    except WrongPassword as exc:
        form.password.errors.append(refusal_text(exc.description))
        return _confirm(form, exc.status)
    end_session()
    flash(_DELETED)
    return redirect(url_for("account.deleted"), code=303)


@bp.get("/deleted")
def deleted():
    """After deleting: what happened (once; otherwise the sign-in page)."""
    set_locale()
    if _DELETED not in get_flashed_messages():
        return redirect(url_for("web.sign_in"))
    return render_template("web/account/deleted.html")


def _confirm(form: DeleteForm, status: int, headers: dict | None = None):
    return render_template("web/account/delete.html", form=form), status, headers or {}
