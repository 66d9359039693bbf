"""Dashboard: groups and roles (spec §3.6, §7.4). Both lists, creation, renaming a
group, and members, through the services and rules the admin API uses
(app/api/groups.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

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
from app.errors import DomainError
from app.models import Group, Role
from app.pagination import encode_cursor
from app.web.refusals import refusal_text

#: Rows on one page of each list.
PAGE_SIZE = 50
#: The name the cursors of each kind's member list carry (the admin API's too).
MEMBER_LISTS = {"groups": "group members", "roles": "role members"}


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
    flash(_("%(name)s is created.", name=row.name))
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
    flash(_("%(who)s now belongs to %(name)s.", who=person_label(account), name=name))
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
        return _members_page(kind, name, exc.status, error=refusal_text(exc.description))
    flash(_("%(who)s no longer belongs to %(name)s.", who=person_label(account), name=name))
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
    flash(_("The group is now called %(name)s.", name=row.name))
    return _back_to("groups", row.name)
