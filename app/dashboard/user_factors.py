"""Dashboard: a person's sign-in factors (issue 16): their page shows the authenticator
app, the recovery codes left and the passkeys (templates/dashboard/users/_factors.html);
an administrator resets them, after a confirmation, for a person who lost them
(app/accounts/factors.py), within the caller's own powers as in the admin API."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from app.access import refuse_account_beyond_caller
from app.accounts import factors
from app.accounts import service as accounts
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.admin_forms import ConfirmForm, person_label
from app.errors import DomainError
from app.web.refusals import refusal_text

#: action -> the service resetting it, and what is said once done.
RESETS = {
    "two_step": (factors.reset_totp, _l("Two-step sign-in of %(email)s is reset.")),
    "passkeys": (factors.reset_passkeys, _l("The passkeys of %(email)s are removed.")),
}


@bp.route("/users/<sub>/reset-two-step", methods=["GET", "POST"])
@requires("users.write")
def users_reset_two_step(sub: str):
    """Confirm, then remove the person's authenticator app and recovery codes."""
    return _reset(sub, "two_step")


@bp.route("/users/<sub>/reset-passkeys", methods=["GET", "POST"])
@requires("users.write")
def users_reset_passkeys(sub: str):
    """Confirm, then remove every passkey of the person."""
    return _reset(sub, "passkeys")


def _reset(sub: str, action: str):
    account = accounts.find(sub)
    form = ConfirmForm()
    if form.validate_on_submit():
        reset, said = RESETS[action]
        try:
            refuse_account_beyond_caller(caller(), sub)
            reset(sub, actor())
        except DomainError as exc:
            form.form_errors.append(refusal_text(exc.description))
            return _confirm_page(account, action, form), exc.status
        flash(said % {"email": person_label(account)})
        return redirect(url_for("dashboard.users_detail", sub=sub), 303)
    return _confirm_page(account, action, form)


def _confirm_page(account, action: str, form: ConfirmForm) -> str:
    return render_template(
        "dashboard/users/confirm_reset.html",
        account=account,
        label=person_label(account),
        action=action,
        form=form,
        factors=factors.factors_of(account),
    )
