"""Dashboard: users (spec §7.4). Search people, and one person's page with the forms
of what may be done to them (app/dashboard/user_actions.py), through the services the
admin API uses (app/api/users.py)."""

from __future__ import annotations

from flask import render_template, request

from app.accounts import groups
from app.accounts import service as accounts
from app.accounts.factors import factors_of
from app.accounts.fields import registration_fields
from app.dashboard import bp
from app.dashboard.access import requires
from app.dashboard.admin_forms import (
    KINDS,
    MembershipForm,
    PasswordLinkForm,
    UserSearchForm,
    person_label,
    read_cursor,
)
from app.models import Account
from app.pagination import encode_cursor

#: Rows on one page of the list.
PAGE_SIZE = 50


@bp.get("/users")
@requires("users.read")
def users():
    """Search people by text, group, role and state, one page at a time."""
    form = UserSearchForm(formdata=request.args)
    if not form.validate():
        return render_template("dashboard/users/list.html", form=form, page=None), 400
    page = accounts.search(form.filters(), read_cursor("users", form.cursor.data), PAGE_SIZE)
    next_cursor = encode_cursor("users", page.next_after)
    return render_template(
        "dashboard/users/list.html",
        form=form,
        page=page,
        next_cursor=next_cursor,
        person_label=person_label,
    )


@bp.get("/users/<sub>")
@requires("users.read")
def users_detail(sub: str):
    """Everything about one person, and what may be done to them."""
    return detail_page(accounts.find(sub))


def detail_page(account: Account, status: int = 200, error: str | None = None, **forms):
    """The person's page; ``forms`` replaces blank forms with submitted ones (errors)."""
    blank = {
        "groups_form": MembershipForm(kind="groups", formdata=None),
        "roles_form": MembershipForm(kind="roles", formdata=None),
        "link_form": PasswordLinkForm(formdata=None),
    }
    labels = {spec.name: spec.label() for spec in registration_fields()}
    page = render_template(
        "dashboard/users/detail.html",
        account=account,
        label=person_label(account),
        field_labels=labels,
        choices=_choices(account),
        factors=factors_of(account),
        error=error,
        **{**blank, **forms},
    )
    return page, status


#: Most groups (or roles) a picker offers; beyond it the page asks for a name instead.
MAX_CHOICES = 500


def _choices(account: Account) -> dict[str, list[str] | None]:
    """For each picker, the groups and roles the person does not hold yet (by name), or
    None when there are too many to list (the page then takes a typed name)."""
    choices: dict[str, list[str] | None] = {}
    for kind, model in KINDS.items():
        rows = groups.list_all(model, limit=MAX_CHOICES + 1).items
        held = {row.name for row in getattr(account, kind)}
        names = sorted(row.name for row in rows if row.name not in held)
        choices[kind] = names if len(rows) <= MAX_CHOICES else None
    return choices
