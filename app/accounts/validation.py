"""What makes a valid account: addresses and numbers normalised, the password policy,
names and JSON fields within their limits, known groups and roles, and an email or
phone number nobody else has. Every check raises AccountError naming the field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.errors import AccountConflict, AccountError
from app.extensions import db
from app.models import Account, Group, Role

#: Passwords shorter than this are refused (NIST SP 800-63B: at least 8).
MIN_PASSWORD_LENGTH = 8
#: argon2 accepts more, but unbounded input is a denial-of-service lever.
MAX_PASSWORD_LENGTH = 256
#: Longest given or family name (the column's length).
NAME_LENGTH = 128
#: Largest JSON accepted for ``custom_fields`` or ``public_metadata`` (bytes).
MAX_JSON_BYTES = 8 * 1024
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


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
    """The name without surrounding spaces (None when empty), within NAME_LENGTH."""
    value = (value or "").strip() or None
    if value is not None and len(value) > NAME_LENGTH:
        raise AccountError(f"{field_name}: at most {NAME_LENGTH} characters", field=field_name)
    return value


def refuse_taken(email: str | None, phone: str | None, account: Account | None = None) -> None:
    """AccountConflict when another account than ``account`` has this email or phone."""
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
