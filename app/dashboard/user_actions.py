"""Dashboard: what may be done to one person (spec §3.6, §7.4): their groups and roles,
disabling and enabling, and set-password links, each within the caller's own powers as
in the admin API (app/api/users.py). Refusals come back on the person's page
(app/dashboard/users.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from app.access import refuse_account_beyond_caller
from app.accounts import password_links
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
from app.dashboard.i18n import add_messages
from app.dashboard.users import detail_page
from app.errors import DomainError
from app.models import Account
from app.web.i18n import translate as t

#: The service function behind each confirmation page.
SWITCHES = {"disable": accounts.disable, "enable": accounts.enable}

add_messages(
    {
        "en": {
            "dash.users.add_group": "Add to a group",
            "dash.users.add_role": "Give a role",
            "dash.users.group_name": "Group name",
            "dash.users.role_name": "Role name",
            "dash.users.add": "Add",
            "dash.users.remove": "Remove",
            "dash.users.remove_from": "Remove {name}",
            "dash.users.disable": "Disable",
            "dash.users.enable": "Enable",
            "dash.users.disable_title": "Disable {email}?",
            "dash.users.disable_hint": "They cannot sign in any more; their browser sessions end "
            "and their access and refresh tokens are revoked at once. Enabling the account "
            "later lets them sign in again, but does not bring the old sessions back.",
            "dash.users.enable_title": "Enable {email}?",
            "dash.users.enable_hint": "They can sign in again with their password.",
            "dash.users.cancel": "Cancel",
            "dash.users.done_disable": "{email} is disabled.",
            "dash.users.done_enable": "{email} is enabled again.",
            "dash.users.added": "{email} now belongs to {name}.",
            "dash.users.removed": "{email} no longer belongs to {name}.",
            "dash.users.password_link": "Set-password link",
            "dash.users.password_link_hint": "A link that lets this person choose a new "
            "password, once, before it expires. Their earlier unused links stop working.",
            "dash.users.link_lang": "Language of the email",
            "dash.lang.en": "English",
            "dash.lang.de": "German",
            "dash.users.link_expires": "Valid for",
            "dash.users.link_default_lifetime": "The default time",
            "dash.users.link_1_day": "1 day",
            "dash.users.link_7_days": "7 days",
            "dash.users.link_30_days": "30 days",
            "dash.users.email_link": "Email the link",
            "dash.users.show_link": "Show the link here instead",
            "dash.users.link_needs_enabled": "Enable the account before issuing a link.",
            "dash.users.link_sent": "A set-password link is on its way to {email}.",
            "dash.users.link_title": "Set-password link for {who}",
            "dash.users.link_once": "Hand this link to the person yourself. It is shown only "
            "now; it works once, until {expires}.",
        },
        "de": {
            "dash.users.add_group": "Zu einer Gruppe hinzufügen",
            "dash.users.add_role": "Eine Rolle geben",
            "dash.users.group_name": "Name der Gruppe",
            "dash.users.role_name": "Name der Rolle",
            "dash.users.add": "Hinzufügen",
            "dash.users.remove": "Entfernen",
            "dash.users.remove_from": "{name} entfernen",
            "dash.users.disable": "Sperren",
            "dash.users.enable": "Entsperren",
            "dash.users.disable_title": "{email} sperren?",
            "dash.users.disable_hint": "Die Person kann sich nicht mehr anmelden; ihre "
            "Browsersitzungen enden und ihre Zugriffs- und Refresh-Tokens werden sofort "
            "widerrufen. Nach dem Entsperren kann sie sich wieder anmelden, die alten Sitzungen "
            "kehren aber nicht zurück.",
            "dash.users.enable_title": "{email} entsperren?",
            "dash.users.enable_hint": "Die Person kann sich wieder mit ihrem Passwort anmelden.",
            "dash.users.cancel": "Abbrechen",
            "dash.users.done_disable": "{email} ist gesperrt.",
            "dash.users.done_enable": "{email} ist wieder entsperrt.",
            "dash.users.added": "{email} gehört jetzt zu {name}.",
            "dash.users.removed": "{email} gehört nicht mehr zu {name}.",
            "dash.users.password_link": "Link zum Setzen des Passworts",
            "dash.users.password_link_hint": "Ein Link, mit dem die Person einmal, bis zu seinem "
            "Ablauf, ein neues Passwort wählen kann. Ihre früheren unbenutzten Links werden "
            "ungültig.",
            "dash.users.link_lang": "Sprache der E-Mail",
            "dash.lang.en": "Englisch",
            "dash.lang.de": "Deutsch",
            "dash.users.link_expires": "Gültig für",
            "dash.users.link_default_lifetime": "Die Standarddauer",
            "dash.users.link_1_day": "1 Tag",
            "dash.users.link_7_days": "7 Tage",
            "dash.users.link_30_days": "30 Tage",
            "dash.users.email_link": "Link per E-Mail senden",
            "dash.users.show_link": "Link stattdessen hier anzeigen",
            "dash.users.link_needs_enabled": "Entsperren Sie das Konto, bevor Sie einen Link "
            "ausstellen.",
            "dash.users.link_sent": "Ein Link zum Setzen des Passworts geht an {email}.",
            "dash.users.link_title": "Link zum Setzen des Passworts für {who}",
            "dash.users.link_once": "Geben Sie diesen Link selbst an die Person weiter. Er wird "
            "nur jetzt angezeigt und funktioniert einmal, bis {expires}.",
        },
    }
)


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
            return detail_page(account, exc.status, error=exc.description)
        return detail_page(account, show_refusal(form, exc), **submitted)
    flash(
        t(
            "dash.users.added" if add else "dash.users.removed",
            email=person_label(account),
            name=name,
        )
    )
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
    """The confirmation page of ``disable`` or ``enable``, and its POST doing it as the
    API does (nobody acts on roles beyond their own; nobody disables themself)."""
    account = accounts.find(sub)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            refuse_account_beyond_caller(caller(), sub)
            SWITCHES[action](sub, actor())
        except DomainError as exc:
            form.form_errors.append(exc.description)
            return _confirm_page(account, action, form), exc.status
        flash(t(f"dash.users.done_{action}", email=person_label(account)))
        return _back_to(account)
    return _confirm_page(account, action, form)


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
        flash(t("dash.users.link_sent", email=account.email))
        return _back_to(account)
    return render_template(
        "dashboard/users/password_link.html",
        account=account,
        label=person_label(account),
        link=link,
        expires_at=row.expires_at,
    )
