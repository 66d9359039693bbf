"""Dashboard: what may be done to one person (spec §3.6, §7.4): their groups and roles,
disabling, enabling and deleting, resetting their sign-in factors (issue 16), and
set-password links, each within the caller's own powers as in the admin API
(app/api/users.py, app/api/users_factors.py). Refusals come back on the person's page
(app/dashboard/users.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.access import refuse_account_beyond_caller
from app.accounts import deletion, factors, password_links
from app.accounts import service as accounts
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.admin_forms import (
    ConfirmForm,
    MembershipForm,
    PasswordLinkForm,
    person_label,
    show_refusal,
)
from app.dashboard.groups import change_membership
from app.dashboard.users import detail_page
from app.errors import DomainError
from app.models import Account
from app.web.refusals import refusal_text

#: The service function behind each confirmation page, and what is said once done.
SWITCHES = {
    "disable": accounts.disable,
    "enable": accounts.enable,
    "reset_two_step": factors.reset_totp,
    "reset_passkeys": factors.reset_passkeys,
}
DONE = {
    "disable": _l("%(email)s is disabled."),
    "enable": _l("%(email)s is enabled again."),
    "reset_two_step": _l("Two-step sign-in of %(email)s is reset."),
    "reset_passkeys": _l("The passkeys of %(email)s are removed."),
}


def _back_to(account: Account):
    return redirect(url_for("dashboard.users_detail", sub=account.sub), 303)


@bp.post("/users/<sub>/memberships")
@requires("users.write")
def users_add_membership(sub: str):
    """Add the person to a group or give them a role (within the caller's own powers,
    over the person's roles and the one given)."""
    return _change_membership(sub, add=True)


@bp.post("/users/<sub>/memberships/remove")
@requires("users.write")
def users_remove_membership(sub: str):
    """Take the person out of a group or role (within the caller's own powers)."""
    return _change_membership(sub, add=False)


def _change_membership(sub: str, *, add: bool):
    account = accounts.find(sub)
    form = MembershipForm()
    # The submitted form replaces the blank one of its kind when the page comes back.
    submitted = {"roles_form" if form.kind.data == "roles" else "groups_form": form}
    if not form.validate():
        return detail_page(account, 400, **submitted)
    name = form.name.data.strip()
    try:
        change_membership(form.kind.data, name, sub, add=add)
    except DomainError as exc:
        if not add:  # a remove button has no field to show the refusal next to
            return detail_page(account, exc.status, error=refusal_text(exc.description))
        return detail_page(account, show_refusal(form, exc), **submitted)
    if add:
        flash(_("%(email)s now belongs to %(name)s.", email=person_label(account), name=name))
    else:
        flash(_("%(email)s no longer belongs to %(name)s.", email=person_label(account), name=name))
    return _back_to(account)


@bp.route("/users/<sub>/disable", methods=["GET", "POST"])
@requires("users.write")
def users_disable(sub: str):
    """Confirm, then disable: sign-in refused, sessions ended, tokens revoked."""
    return _switch(sub, "disable")


@bp.route("/users/<sub>/enable", methods=["GET", "POST"])
@requires("users.write")
def users_enable(sub: str):
    """Confirm, then let a disabled person sign in again."""
    return _switch(sub, "enable")


def _switch(sub: str, action: str):
    """The confirmation page of ``action`` (a key of SWITCHES), and its POST doing it as
    the API does (nobody acts on roles beyond their own; nobody disables themself)."""
    account = accounts.find(sub)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            refuse_account_beyond_caller(caller(), sub)
            SWITCHES[action](sub, actor())
        except DomainError as exc:
            form.form_errors.append(refusal_text(exc.description))
            return _confirm_page(account, action, form), exc.status
        flash(DONE[action] % {"email": person_label(account)})
        return _back_to(account)
    return _confirm_page(account, action, form)


@bp.route("/users/<sub>/reset-two-step", methods=["GET", "POST"])
@requires("users.write")
def users_reset_two_step(sub: str):
    """Confirm, then remove the person's authenticator app and recovery codes (for one
    who lost them: they set up again at their next sign-in where it is required)."""
    return _switch(sub, "reset_two_step")


@bp.route("/users/<sub>/reset-passkeys", methods=["GET", "POST"])
@requires("users.write")
def users_reset_passkeys(sub: str):
    """Confirm, then remove every passkey of the person."""
    return _switch(sub, "reset_passkeys")


@bp.route("/users/<sub>/delete", methods=["GET", "POST"])
@requires("users.write")
def users_delete(sub: str):
    """Confirm, then delete the person's account and all it held (as the API does)."""
    account = accounts.find(sub)
    form = ConfirmForm()
    if form.validate_on_submit():
        label = person_label(account)
        try:
            refuse_account_beyond_caller(caller(), sub)
            deletion.delete(sub, actor())
        except DomainError as exc:
            form.form_errors.append(refusal_text(exc.description))
            return _confirm_page(account, "delete", form), exc.status
        flash(_("%(email)s is deleted.", email=label))
        return redirect(url_for("dashboard.users"), 303)
    return _confirm_page(account, "delete", form)


def _confirm_page(account: Account, action: str, form: ConfirmForm) -> str:
    return render_template(
        "dashboard/users/confirm.html",
        account=account,
        label=person_label(account),
        action=action,
        form=form,
    )


@bp.post("/users/<sub>/password-link")
@requires("users.write")
def users_password_link(sub: str):
    """Issue a set-password link: emailed (then back to the person's page), or shown
    once in this response (never in a URL or a flash message)."""
    account = accounts.find(sub)
    form = PasswordLinkForm()
    if not form.validate():
        return detail_page(account, 400, link_form=form)
    try:
        refuse_account_beyond_caller(caller(), sub)
        row, link = password_links.issue_set_link(sub, actor(), **form.arguments())
    except DomainError as exc:
        return detail_page(account, show_refusal(form, exc), link_form=form)
    if form.notify:
        flash(_("A set-password link is on its way to %(email)s.", email=account.email))
        return _back_to(account)
    return render_template(
        "dashboard/users/password_link.html",
        account=account,
        label=person_label(account),
        link=link,
        expires_at=row.expires_at,
    )
