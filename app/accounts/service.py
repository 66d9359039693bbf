"""Accounts: creation, lookup, search, and the administration of people (spec §3.3).
Writes happen here, not in views.

What makes a valid account is checked in app/accounts/validation.py, signing in is
app/accounts/authentication.py, and what a disabled account loses is ended by
app/accounts/revocation.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app import events
from app.accounts.errors import AccountError, AccountNotFound, CannotDisableSelf
from app.accounts.passwords import hash_password
from app.accounts.revocation import end_sign_ins
from app.accounts.validation import (
    check_password_policy,
    clean_name,
    json_object,
    normalise_email,
    normalise_phone,
    refuse_taken,
    resolve_names,
    taken_is_conflict,
)
from app.extensions import db
from app.models import Account, Group, Role, utcnow
from app.pagination import Page, keyset_page


@dataclass
class AccountInput:
    """What an administrator may set when creating an account."""

    email: str
    password: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    phone_number: str | None = None
    email_verified: bool = False
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    public_metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccountFilters:
    """Search criteria; each one given narrows the result."""

    q: str | None = None
    email: str | None = None
    group: str | None = None
    role: str | None = None
    disabled: bool | None = None


# -- reading ---------------------------------------------------------------------------


def find_by_email(email: str) -> Account | None:
    """The account with this (normalised) email, if any."""
    return db.session.scalar(select(Account).where(Account.email == email.strip().lower()))


def find(sub: str) -> Account:
    """The account with this ``sub``; AccountNotFound otherwise."""
    account = db.session.scalar(select(Account).where(Account.sub == sub))
    if account is None:
        raise AccountNotFound(f"no user {sub!r}")
    return account


def search(filters: AccountFilters, after: int | None = None, limit: int = 50) -> Page:
    """Accounts matching every given filter, oldest first, one page at a time.

    Only accounts are searched: an invited person appears once they have registered.
    """
    stmt = select(Account)
    if filters.q:
        stmt = stmt.where(
            Account.email.icontains(filters.q, autoescape=True)
            | Account.given_name.icontains(filters.q, autoescape=True)
            | Account.family_name.icontains(filters.q, autoescape=True)
        )
    if filters.email:
        stmt = stmt.where(Account.email == filters.email.strip().lower())
    if filters.group:
        stmt = stmt.where(Account.groups.any(Group.name == filters.group))
    if filters.role:
        stmt = stmt.where(Account.roles.any(Role.name == filters.role))
    if filters.disabled is not None:
        stmt = stmt.where(Account.disabled == filters.disabled)
    return keyset_page(stmt, Account.id, after, limit)


# -- creating --------------------------------------------------------------------------


def create_account(
    email: str,
    password: str,
    *,
    given_name: str | None = None,
    family_name: str | None = None,
    email_verified: bool = False,
    roles: tuple[str, ...] = (),
    actor: str = "cli",
) -> Account:
    """``create`` for the CLI and seeding: a password is required and missing roles
    are created first.

    Raises AccountError on bad input, AccountConflict when the email is taken.
    """
    check_password_policy(password)
    for name in roles:
        ensure_role(name)
    db.session.flush()
    data = AccountInput(
        email=email,
        password=password,
        given_name=given_name,
        family_name=family_name,
        email_verified=email_verified,
        roles=list(roles),
    )
    return create(data, actor)


def create(
    data: AccountInput, actor: str, *, before_commit: Callable[[Account], None] | None = None
) -> Account:
    """Create and commit an account for an administrator, with its ``user.created`` event
    (and what ``before_commit`` adds, in the same transaction).

    Unknown groups or roles are refused; without a password the person cannot sign
    in until one is set.
    """
    address = normalise_email(data.email)
    if data.password is not None:
        check_password_policy(data.password)
    values = {
        "email": address,
        "email_verified": bool(data.email_verified),
        "phone_number": normalise_phone(data.phone_number),
        "given_name": clean_name("given_name", data.given_name),
        "family_name": clean_name("family_name", data.family_name),
        "custom_fields": json_object("custom_fields", data.custom_fields),
        "public_metadata": json_object("public_metadata", data.public_metadata),
        "groups": resolve_names(Group, "groups", data.groups),
        "roles": resolve_names(Role, "roles", data.roles),
    }
    refuse_taken(address, values["phone_number"])
    password_hash = hash_password(data.password) if data.password is not None else None
    account = Account(password_hash=password_hash, **values)
    db.session.add(account)
    with taken_is_conflict():
        db.session.flush()
        events.record("user.created", actor, sub=account.sub)
        if before_commit is not None:
            before_commit(account)
        db.session.commit()
    return account


def ensure_role(name: str) -> Role:
    """The role called ``name``, added to the session when it does not exist yet."""
    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name)
        db.session.add(role)
    return role


# -- changing --------------------------------------------------------------------------

#: Fields ``update`` accepts.
UPDATABLE = frozenset(
    {
        "given_name",
        "family_name",
        "phone_number",
        "phone_number_verified",
        "email_verified",
        "groups",
        "roles",
        "custom_fields",
        "public_metadata",
    }
)


def update(sub: str, changes: dict[str, Any], actor: str) -> Account:
    """Apply ``changes`` (keys from UPDATABLE; lists and objects replace) and commit.

    Everything is validated before anything changes. A new phone number is unverified
    unless ``phone_number_verified`` says otherwise.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise AccountError(f"cannot change {', '.join(sorted(unknown))}")
    account = find(sub)
    values = _validated_changes(account, changes)
    for key, value in values.items():
        setattr(account, key, value)
    if values:
        account.updated_at = utcnow()
        events.record("user.updated", actor, sub=account.sub, fields=sorted(values))
    _commit_or_conflict()
    return account


def _validated_changes(account: Account, changes: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("given_name", "family_name"):
        if key in changes:
            values[key] = clean_name(key, changes[key])
    for key in ("custom_fields", "public_metadata"):
        if key in changes:
            values[key] = json_object(key, changes[key])
    if "groups" in changes:
        values["groups"] = resolve_names(Group, "groups", changes["groups"])
    if "roles" in changes:
        values["roles"] = resolve_names(Role, "roles", changes["roles"])
    if "phone_number" in changes:
        phone = normalise_phone(changes["phone_number"])
        refuse_taken(None, phone, account)
        if phone != account.phone_number:
            values["phone_number"] = phone
            values["phone_number_verified"] = False
    for key in ("email_verified", "phone_number_verified"):
        if key in changes:
            values[key] = bool(changes[key])
    return values


def _commit_or_conflict() -> None:
    with taken_is_conflict():
        db.session.commit()


def disable(sub: str, actor: str) -> Account:
    """Disable an account: it cannot sign in, its browser sessions end and its tokens
    are revoked (so enabling it again does not bring them back).

    A person cannot disable themself (``actor`` is ``account:<sub>``): CannotDisableSelf.
    """
    if actor == f"account:{sub}":
        raise CannotDisableSelf("you cannot disable your own account")
    account = find(sub)
    if account.disabled:
        return account
    account.disabled = True
    end_sign_ins(account, utcnow())
    events.record("user.disabled", actor, sub=account.sub)
    db.session.commit()
    return account


def enable(sub: str, actor: str) -> Account:
    """Let a disabled account sign in again (its old sessions and tokens stay ended)."""
    account = find(sub)
    if account.disabled:
        account.disabled = False
        events.record("user.enabled", actor, sub=account.sub)
        db.session.commit()
    return account
