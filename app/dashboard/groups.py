"""Dashboard: groups and roles (spec §3.6, §7.4). Both lists, creation, renaming a
group, and members, through the services and rules the admin API uses
(app/api/groups.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from app.access import refuse_account_beyond_caller
from app.accounts import groups as named
from app.accounts import service as accounts
from app.dashboard import bp
from app.dashboard.access import actor, caller, requires
from app.dashboard.admin_forms import (
    KINDS,
    MemberForm,
    NameForm,
    NewGroupForm,
    person_label,
    read_cursor,
    show_refusal,
)
from app.dashboard.i18n import add_messages
from app.errors import DomainError
from app.models import Group, Role
from app.pagination import encode_cursor
from app.web.i18n import translate as t

#: Rows on one page of each list.
PAGE_SIZE = 50
#: The name the cursors of each kind's member list carry (the admin API's too).
MEMBER_LISTS = {"groups": "group members", "roles": "role members"}

add_messages(
    {
        "en": {
            "dash.groups.groups": "Groups",
            "dash.groups.roles": "Roles",
            "dash.groups.roles_hint": "The roles admin, secondary_admin and user_invite open "
            "parts of this dashboard and the admin API.",
            "dash.groups.name": "Name",
            "dash.groups.created": "Created",
            "dash.groups.none": "None yet.",
            "dash.groups.more": "More",
            "dash.groups.create": "Create a group or role",
            "dash.groups.kind": "Kind",
            "dash.groups.a_group": "Group",
            "dash.groups.a_role": "Role",
            "dash.groups.name_hint": "Letters, digits, '-', '_', '.' or ':'; at most 64.",
            "dash.groups.create_button": "Create",
            "dash.groups.created_flash": "{name} is created.",
            "dash.groups.group_title": "Group {name}",
            "dash.groups.role_title": "Role {name}",
            "dash.groups.back": "All groups and roles",
            "dash.groups.members": "Members",
            "dash.groups.no_members": "Nobody yet.",
            "dash.groups.add_member": "Add a member",
            "dash.groups.who": "Email or sub",
            "dash.groups.add": "Add",
            "dash.groups.remove": "Remove",
            "dash.groups.remove_who": "Remove {who}",
            "dash.groups.rename": "Rename",
            "dash.groups.new_name": "New name",
            "dash.groups.renamed": "The group is now called {name}.",
            "dash.groups.added": "{who} now belongs to {name}.",
            "dash.groups.removed": "{who} no longer belongs to {name}.",
        },
        "de": {
            "dash.groups.groups": "Gruppen",
            "dash.groups.roles": "Rollen",
            "dash.groups.roles_hint": "Die Rollen admin, secondary_admin und user_invite öffnen "
            "Teile dieser Verwaltung und der Admin-API.",
            "dash.groups.name": "Name",
            "dash.groups.created": "Angelegt",
            "dash.groups.none": "Noch keine.",
            "dash.groups.more": "Weitere",
            "dash.groups.create": "Gruppe oder Rolle anlegen",
            "dash.groups.kind": "Art",
            "dash.groups.a_group": "Gruppe",
            "dash.groups.a_role": "Rolle",
            "dash.groups.name_hint": "Buchstaben, Ziffern, '-', '_', '.' oder ':'; höchstens 64.",
            "dash.groups.create_button": "Anlegen",
            "dash.groups.created_flash": "{name} ist angelegt.",
            "dash.groups.group_title": "Gruppe {name}",
            "dash.groups.role_title": "Rolle {name}",
            "dash.groups.back": "Alle Gruppen und Rollen",
            "dash.groups.members": "Mitglieder",
            "dash.groups.no_members": "Noch niemand.",
            "dash.groups.add_member": "Mitglied hinzufügen",
            "dash.groups.who": "E-Mail oder sub",
            "dash.groups.add": "Hinzufügen",
            "dash.groups.remove": "Entfernen",
            "dash.groups.remove_who": "{who} entfernen",
            "dash.groups.rename": "Umbenennen",
            "dash.groups.new_name": "Neuer Name",
            "dash.groups.renamed": "Die Gruppe heißt jetzt {name}.",
            "dash.groups.added": "{who} gehört jetzt zu {name}.",
            "dash.groups.removed": "{who} gehört nicht mehr zu {name}.",
        },
    }
)


def change_membership(kind: str, name: str, sub: str, *, add: bool) -> None:
    """Add ``sub`` to (or remove it from) the group or role ``name`` as the API does:
    only within the caller's own powers over the account's roles and the role named
    (spec §3.6)."""
    refuse_account_beyond_caller(caller(), sub, [name] if kind == "roles" else ())
    change = named.add_member if add else named.remove_member
    change(KINDS[kind], name, sub, actor())


def _cursor_arg(name: str, list_name: str) -> Any:
    try:
        return read_cursor(list_name, request.args.get(name))
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/groups")
@requires("users.read")
def groups():
    """Groups and roles, one table each, and the form creating either."""
    return _list_page(NewGroupForm(formdata=None))


def _list_page(form: NewGroupForm, status: int = 200):
    pages = {
        "groups": named.list_all(Group, _cursor_arg("groups_after", "groups"), PAGE_SIZE),
        "roles": named.list_all(Role, _cursor_arg("roles_after", "roles"), PAGE_SIZE),
    }
    cursors = {kind: encode_cursor(kind, page.next_after) for kind, page in pages.items()}
    page = render_template("dashboard/groups/list.html", pages=pages, cursors=cursors, form=form)
    return page, status


@bp.post("/groups")
@requires("users.write")
def groups_create():
    """Create a group or a role, then show its (empty) member list."""
    form = NewGroupForm()
    if not form.validate():
        return _list_page(form, 400)
    try:
        row = named.create(KINDS[form.kind.data], form.name.data.strip(), actor())
    except DomainError as exc:
        return _list_page(form, show_refusal(form, exc))
    flash(t("dash.groups.created_flash", name=row.name))
    return redirect(url_for("dashboard.groups_members", kind=form.kind.data, name=row.name), 303)


@bp.get("/<any(groups, roles):kind>/<name>")
@requires("users.read")
def groups_members(kind: str, name: str):
    """A group's or role's members, one page at a time; add, remove, rename."""
    return _members_page(kind, name)


def _members_page(kind: str, name: str, status: int = 200, **forms):
    members = MEMBER_LISTS[kind]
    page = named.members(KINDS[kind], name, _cursor_arg("after", members), PAGE_SIZE)
    blank = {"member_form": MemberForm(formdata=None), "rename_form": NameForm(formdata=None)}
    html = render_template(
        "dashboard/groups/members.html",
        kind=kind,
        name=name,
        page=page,
        next_cursor=encode_cursor(members, page.next_after),
        person_label=person_label,
        **{**blank, **forms},
    )
    return html, status


def _back_to(kind: str, name: str):
    return redirect(url_for("dashboard.groups_members", kind=kind, name=name), 303)


@bp.post("/<any(groups, roles):kind>/<name>/members")
@requires("users.write")
def groups_add_member(kind: str, name: str):
    """Add a person, named by email or sub, to the group or role."""
    named.find(KINDS[kind], name)
    form = MemberForm()
    if not form.validate():
        return _members_page(kind, name, 400, member_form=form)
    try:
        account = form.account()
        change_membership(kind, name, account.sub, add=True)
    except DomainError as exc:
        return _members_page(kind, name, show_refusal(form, exc), member_form=form)
    flash(t("dash.groups.added", who=person_label(account), name=name))
    return _back_to(kind, name)


@bp.post("/<any(groups, roles):kind>/<name>/members/<sub>/remove")
@requires("users.write")
def groups_remove_member(kind: str, name: str, sub: str):
    """Take a person out of the group or role."""
    account = accounts.find(sub)
    try:
        change_membership(kind, name, sub, add=False)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _members_page(kind, name, exc.status, error=exc.description)
    flash(t("dash.groups.removed", who=person_label(account), name=name))
    return _back_to(kind, name)


@bp.post("/groups/<name>/rename")
@requires("users.write")
def groups_rename(name: str):
    """Rename a group; its members stay. Roles are not renamed here, as in the admin
    API: a role's name is what grants its powers."""
    form = NameForm()
    if not form.validate():
        return _members_page("groups", name, 400, rename_form=form)
    try:
        row = named.rename(Group, name, form.name.data.strip(), actor())
    except DomainError as exc:
        return _members_page("groups", name, show_refusal(form, exc), rename_form=form)
    flash(t("dash.groups.renamed", name=row.name))
    return _back_to("groups", row.name)
