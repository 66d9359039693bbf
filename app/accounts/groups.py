"""Groups and roles (spec §3.1, §3.6): named sets of accounts, managed alike.

Every function takes the model (``Group`` or ``Role``) it works on; the two differ
only in what membership means elsewhere (roles grant admin powers, §3.6).
"""

from __future__ import annotations

import re

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from app import events
from app.accounts import service as accounts
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.models import (
    Account,
    Group,
    Invitation,
    Role,
    account_groups,
    account_roles,
    invitation_groups,
    invitation_roles,
    utcnow,
)
from app.pagination import Page, keyset_page

Named = Group | Role

#: The roles that carry admin powers (spec §3.6; what each allows: app/access.py).
#: Granting one needs those powers, and an invitation granting one is bound to its email.
BUILT_IN_ROLES = frozenset({"admin", "secondary_admin", "user_invite"})

#: Letters, digits and ``- _ . :``; 1 to 64 characters (the column's length).
NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class InvalidName(DomainError):
    """A group or role name outside the allowed alphabet or length (400)."""

    def __init__(self, description: str):
        super().__init__(description, field="name")


class NameTaken(Conflict):
    """Another group (or role) already has this name (409)."""


class NamedNotFound(NotFound):
    """No group (or role) with this name."""


class NamedInUse(Conflict):
    """A group (or role) that someone holds or a pending invitation grants (409)."""


def _kind(model: type[Named]) -> str:
    return "group" if model is Group else "role"


def _membership(model: type[Named]):
    return Account.groups if model is Group else Account.roles


def _link(model: type[Named]) -> tuple[Table, str]:
    return (account_groups, "group_id") if model is Group else (account_roles, "role_id")


def _invitation_link(model: type[Named]) -> tuple[Table, str]:
    return (invitation_groups, "group_id") if model is Group else (invitation_roles, "role_id")


def check_name(name: str) -> str:
    """The name, if it is 1..64 letters, digits, ``-``, ``_``, ``.`` or ``:`` and not
    only dots (``.`` and ``..`` cannot be a path segment of a page or API URL)."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or not name.strip("."):
        raise InvalidName("names are 1 to 64 letters, digits, '-', '_', '.' or ':', not only dots")
    return name


def find(model: type[Named], name: str) -> Named:
    """The group or role with this name; NamedNotFound otherwise."""
    row = db.session.scalar(select(model).where(model.name == name))
    if row is None:
        raise NamedNotFound(f"no {_kind(model)} {name!r}")
    return row


def list_all(model: type[Named], after: int | None = None, limit: int = 50) -> Page:
    """Every group or role, oldest first, one page at a time."""
    return keyset_page(select(model), model.id, after, limit)


def create(model: type[Named], name: str, actor: str) -> Named:
    """Create and commit a group or role; NameTaken when the name exists."""
    check_name(name)
    _refuse_taken(model, name)
    row = model(name=name)
    db.session.add(row)
    db.session.flush()
    events.record(f"{_kind(model)}.created", actor, name=name)
    _commit_or_taken(model, name)
    return row


def rename(model: type[Named], name: str, new_name: str, actor: str) -> Named:
    """Give a group or role a new name; memberships stay."""
    row = find(model, name)
    check_name(new_name)
    if new_name == row.name:
        return row
    _refuse_taken(model, new_name)
    row.name = new_name
    events.record(f"{_kind(model)}.renamed", actor, name=new_name, previous=name)
    _commit_or_taken(model, new_name)
    return row


def remove(model: type[Named], name: str, actor: str) -> None:
    """Delete a group or role that no account holds and no pending invitation grants
    (NamedInUse otherwise); finished invitations that named it forget it."""
    row = find(model, name)
    holders = member_count(model, row)
    if holders:
        raise NamedInUse(
            f"{holders} account(s) still belong to the {_kind(model)} {name!r}: remove them first"
        )
    invited, column = _invitation_link(model)
    pending = db.session.scalar(
        select(func.count())
        .select_from(invited)
        .join(Invitation, Invitation.id == invited.c.invitation_id)
        .where(invited.c[column] == row.id, Invitation.pending_key.is_not(None))
    )
    if pending:
        raise NamedInUse(
            f"{pending} pending invitation(s) grant the {_kind(model)} {name!r}: revoke them first"
        )
    db.session.execute(delete(invited).where(invited.c[column] == row.id))
    db.session.delete(row)
    events.record(f"{_kind(model)}.deleted", actor, name=name)
    db.session.commit()


def members(model: type[Named], name: str, after: int | None = None, limit: int = 50) -> Page:
    """The accounts in a group or holding a role, oldest first, one page at a time."""
    row = find(model, name)
    stmt = select(Account).where(_membership(model).any(model.id == row.id))
    return keyset_page(stmt, Account.id, after, limit)


def member_count(model: type[Named], row: Named) -> int:
    """How many accounts are in the group or hold the role."""
    table, column = _link(model)
    return db.session.scalar(
        select(func.count()).select_from(table).where(table.c[column] == row.id)
    )


def add_member(model: type[Named], name: str, sub: str, actor: str) -> None:
    """Put an account in a group or give it a role (nothing happens if it already is)."""
    row = find(model, name)
    account = accounts.find(sub)
    table, column = _link(model)
    link = table.c.account_id == account.id, table.c[column] == row.id
    if db.session.scalar(select(func.count()).select_from(table).where(*link)):
        return
    try:
        db.session.execute(insert(table).values(account_id=account.id, **{column: row.id}))
        account.updated_at = utcnow()
        events.record(f"{_kind(model)}.member_added", actor, name=row.name, sub=sub)
        db.session.commit()
    except IntegrityError:
        # A concurrent request added the same membership first: the result stands.
        db.session.rollback()


def remove_member(model: type[Named], name: str, sub: str, actor: str) -> None:
    """Take an account out of a group or role (nothing happens if it is not in it)."""
    row = find(model, name)
    account = accounts.find(sub)
    table, column = _link(model)
    removed = db.session.execute(
        delete(table).where(table.c.account_id == account.id, table.c[column] == row.id)
    ).rowcount
    if removed:
        account.updated_at = utcnow()
        events.record(f"{_kind(model)}.member_removed", actor, name=row.name, sub=sub)
    db.session.commit()


def _refuse_taken(model: type[Named], name: str) -> None:
    if db.session.scalar(select(model.id).where(model.name == name)) is not None:
        raise NameTaken(f"a {_kind(model)} named {name!r} already exists", field="name")


def _commit_or_taken(model: type[Named], name: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request took the name first.
        db.session.rollback()
        raise NameTaken(f"a {_kind(model)} named {name!r} already exists", field="name") from None
