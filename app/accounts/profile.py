"""What a signed-in person changes about themself on the account page (issue 15): their
names, the configured registration fields and their mobile number. Their email and
password have their own services (app/accounts/credentials.py), since both need the
current password."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import events
from app.accounts.fields import registration_fields
from app.accounts.phone_verification import end_codes
from app.accounts.validation import (
    clean_name,
    json_object,
    normalise_phone,
    refuse_taken,
    taken_is_conflict,
)
from app.extensions import db
from app.models import Account, utcnow


@dataclass
class Profile:
    """The profile form: every field is the new value (empty clears it)."""

    given_name: str | None = None
    family_name: str | None = None
    phone_number: str | None = None
    #: The configured registration fields' values; a field left out is cleared.
    custom_fields: dict[str, Any] = field(default_factory=dict)


def update_profile(account: Account, profile: Profile) -> list[str]:
    """Apply the person's own changes and record ``user.updated``; returns the names of
    the fields that changed (none: nothing is written). Commits.

    A new mobile number is unverified (its codes end); values the account holds for
    fields no longer configured (or set by an invitation's creator) are kept.
    Everything is checked before anything changes: AccountError, AccountConflict.
    """
    values: dict[str, Any] = {
        "given_name": clean_name("given_name", profile.given_name),
        "family_name": clean_name("family_name", profile.family_name),
        "custom_fields": json_object("custom_fields", _merged(account, profile.custom_fields)),
    }
    phone = normalise_phone(profile.phone_number)
    if phone != account.phone_number:
        refuse_taken(None, phone, account)
        values.update(phone_number=phone, phone_number_verified=False)
    changed = sorted(name for name, value in values.items() if getattr(account, name) != value)
    if not changed:
        return []
    for name in changed:
        setattr(account, name, values[name])
    if "phone_number" in changed:
        end_codes(account)
    account.updated_at = utcnow()
    events.record("user.updated", f"account:{account.sub}", sub=account.sub, fields=changed)
    with taken_is_conflict():
        db.session.commit()
    return changed


def _merged(account: Account, configured: dict[str, Any]) -> dict[str, Any]:
    names = {spec.name for spec in registration_fields()}
    kept = {name: value for name, value in account.custom_fields.items() if name not in names}
    return {**kept, **{name: configured[name] for name in names if name in configured}}
