"""Accounts: creation, sign-in, and the administration of people (spec §3.3).
Writes happen here, not in views."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from app import events
from app.accounts import throttle
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.models import (
    Account,
    AuthorizationCode,
    BrowserSession,
    Group,
    PasswordToken,
    Role,
    Token,
    utcnow,
)
from app.observability.metrics import record_sign_in
from app.pagination import Page, keyset_page

#: Passwords shorter than this are refused (NIST SP 800-63B: at least 8).
MIN_PASSWORD_LENGTH = 8
#: argon2 accepts more, but unbounded input is a denial-of-service lever.
MAX_PASSWORD_LENGTH = 256
#: Longest given or family name (the column's length).
NAME_LENGTH = 128
#: Largest JSON accepted for ``custom_fields`` or ``public_metadata`` (bytes).
MAX_JSON_BYTES = 8 * 1024
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class AccountError(DomainError, ValueError):
    """Input that cannot make a valid account (400); the message is safe to show."""


class AccountConflict(AccountError):
    """The email or phone number already belongs to another account (409)."""

    status = 409
    code = "conflict"


class AccountNotFound(NotFound):
    """No account with that ``sub``."""


class CannotDisableSelf(Conflict):
    """A person asked to disable their own account (409): nobody locks themself out
    (and with them, perhaps, the server's only administrator)."""


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


# -- validation ------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """Validate syntax (no DNS lookups) and return the lower-cased address."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"invalid email address: {exc}", field="email") from None
    return result.normalized.lower()


def normalise_phone(value: str | None) -> str | None:
    """An E.164 number with spaces, dots, dashes and brackets removed, or None."""
    if not value:
        return None
    compact = re.sub(r"[\s().-]", "", value)
    if not E164.match(compact):
        raise AccountError(
            "phone_number must be an E.164 number such as +4915112345678", field="phone_number"
        )
    return compact


def check_password_policy(password: str) -> None:
    """Raise AccountError when the password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )


def json_object(field_name: str, value: dict | None) -> dict:
    """A JSON object small enough to store, without NaN or infinities (invalid JSON)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AccountError(f"{field_name} must be a JSON object", field=field_name)
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError):
        raise AccountError(f"{field_name} must be plain JSON", field=field_name) from None
    if size > MAX_JSON_BYTES:
        raise AccountError(
            f"{field_name}: at most {MAX_JSON_BYTES} bytes of JSON", field=field_name
        )
    return value


def resolve_names(model: type[Group] | type[Role], field_name: str, names: list[str]) -> list:
    """The groups or roles with these names; unknown names are refused, not dropped."""
    wanted = list(dict.fromkeys(names or []))
    if not wanted:
        return []
    rows = list(db.session.scalars(select(model).where(model.name.in_(wanted))))
    unknown = sorted(set(wanted) - {row.name for row in rows})
    if unknown:
        raise AccountError(f"unknown {field_name}: {', '.join(unknown)}", field=field_name)
    return sorted(rows, key=lambda row: row.name)


def clean_name(field_name: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > NAME_LENGTH:
        raise AccountError(f"{field_name}: at most {NAME_LENGTH} characters", field=field_name)
    return value


def refuse_taken(email: str | None, phone: str | None, account: Account | None = None) -> None:
    for column, value in ((Account.email, email), (Account.phone_number, phone)):
        if value is None:
            continue
        owner = db.session.scalar(select(Account).where(column == value))
        if owner is not None and owner is not account:
            raise AccountConflict(
                f"an account with this {column.key} already exists", field=column.key
            )


@contextmanager
def taken_is_conflict() -> Iterator[None]:
    """Inside: the flushes and the commit of an account. A concurrent request that took
    the same email or phone number first (a unique violation, at flush or at commit)
    becomes AccountConflict (409), with everything rolled back."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise AccountConflict("an account with this email or phone number already exists") from None


def _commit_or_conflict() -> None:
    with taken_is_conflict():
        db.session.commit()


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


def create(data: AccountInput, actor: str) -> Account:
    """Create and commit an account for an administrator, with its ``user.created`` event.

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


def end_sign_ins(account: Account, now: datetime) -> None:
    """End every browser session, revoke every token, spend every unredeemed code and
    end every unused password link of ``account`` (in the caller's transaction): after
    disabling it or a password change."""
    db.session.execute(
        sql_update(BrowserSession)
        .where(BrowserSession.account_id == account.id, BrowserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sql_update(Token)
        .where(Token.account_id == account.id)
        .values(
            access_token_revoked_at=func.coalesce(Token.access_token_revoked_at, now),
            refresh_token_revoked_at=func.coalesce(Token.refresh_token_revoked_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sql_update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Unused password links too: enabling the account again must not revive them.
    end_password_links(account, now)


def end_password_links(account: Account, now: datetime, purpose: str | None = None) -> None:
    """End the account's unused password links (of ``purpose``, or all) by expiring
    them now (in the caller's transaction)."""
    stmt = sql_update(PasswordToken).where(
        PasswordToken.account_id == account.id,
        PasswordToken.used_at.is_(None),
        PasswordToken.expires_at > now,
    )
    if purpose is not None:
        stmt = stmt.where(PasswordToken.purpose == purpose)
    db.session.execute(stmt.values(expires_at=now).execution_options(synchronize_session=False))


def enable(sub: str, actor: str) -> Account:
    """Let a disabled account sign in again (its old sessions and tokens stay ended)."""
    account = find(sub)
    if account.disabled:
        account.disabled = False
        events.record("user.enabled", actor, sub=account.sub)
        db.session.commit()
    return account


# -- signing in ------------------------------------------------------------------------


def authenticate(email: str, password: str) -> Account | None:
    """The account these credentials open, or None. Rehashes outdated hashes.

    Every form that checks a password calls this, so failures count per address
    across all of them; raises ``throttle.TooManyFailures`` while the address is
    in its back-off (no password is checked then).
    """
    throttle.refuse_if_blocked(email)
    account = find_by_email(email) if email else None
    ok = len(password) <= MAX_PASSWORD_LENGTH and verify_password(
        account.password_hash if account else None, password
    )
    if not ok or account is None or account.disabled:
        throttle.record_failure(email)
        record_sign_in(success=False)
        return None
    throttle.forget_failures(email)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    db.session.commit()
    return account
