"""When a sign-in needs a second factor (issue 16), and what a sign-in's methods are
worth (the ``amr`` and ``acr`` claims).

A second factor is needed, unless the sign-in already has one (a TOTP code, a recovery
code, or a passkey with user verification, which is two factors by itself), when:

- the request asks for it: ``acr_values`` names ``ACR_MFA``;
- the client says so: ``mfa = "required"`` always, ``"optional"`` when the person has
  a confirmed TOTP authenticator, ``"off"`` never for the client's sake;
- the person holds a role in ``ADMIN_ROLES`` while ``MFA_FOR_ADMIN_ROLES`` is on.

Vestibule's own pages (the account page, the dashboard) count as an ``"optional"``
client: a person who set up two-step sign-in is asked for it there.

The cheap checks come first: with the default settings (client ``off``, roles policy
off) nothing is read from the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Account
from app.models.factors import TotpFactor

#: A client's ``mfa`` setting.
OFF, OPTIONAL, REQUIRED = "off", "optional", "required"
CLIENT_POLICIES = (OFF, OPTIONAL, REQUIRED)

#: ``amr`` values (RFC 8176): a password, a one-time code (TOTP or a recovery code),
#: several factors, a passkey bound to one device or synced between devices.
PASSWORD, ONE_TIME_CODE, MULTI_FACTOR = "pwd", "otp", "mfa"
PASSKEY_METHODS = frozenset({"hwk", "swk"})

#: ``acr`` values: a password alone; a second factor or a passkey. A request asking for
#: ``ACR_MFA`` in ``acr_values`` gets the second-factor step.
ACR_PASSWORD = "urn:vestibule:acr:pwd"
ACR_MFA = "urn:vestibule:acr:mfa"
ACR_VALUES = (ACR_PASSWORD, ACR_MFA)

#: Roles whose holders need a second factor while ``MFA_FOR_ADMIN_ROLES`` is on.
ADMIN_ROLES = frozenset({"admin", "secondary_admin"})


def strong(amr: Iterable[str] | None) -> bool:
    """Whether a sign-in with these methods counts as multi-factor (a second factor
    after the password, or a passkey with user verification)."""
    methods = set(amr or ())
    return MULTI_FACTOR in methods or bool(methods & PASSKEY_METHODS)


def acr(amr: Iterable[str] | None) -> str:
    """The ``acr`` claim of a sign-in with these methods."""
    return ACR_MFA if strong(amr) else ACR_PASSWORD


def with_second_factor(amr: Iterable[str] | None) -> list[str]:
    """The methods of a sign-in once a one-time code was added to it."""
    methods = list(amr or [PASSWORD])
    return methods + [m for m in (ONE_TIME_CODE, MULTI_FACTOR) if m not in methods]


def second_factor_needed(
    account: Account,
    amr: Iterable[str] | None,
    client_mfa: str | None = None,
    acr_values: str | None = None,
) -> bool:
    """Whether ``account``, signed in with ``amr``, must still give a second factor for
    a client with this ``mfa`` setting (None: Vestibule's own pages) and request."""
    if strong(amr):
        return False
    if client_mfa == REQUIRED or ACR_MFA in (acr_values or "").split():
        return True
    if admin_roles_need_it(account):
        return True
    return client_mfa in (None, OPTIONAL) and has_authenticator(account)


def admin_roles_need_it(account: Account) -> bool:
    """Whether ``MFA_FOR_ADMIN_ROLES`` is on and ``account`` holds such a role."""
    if not current_app.config["MFA_FOR_ADMIN_ROLES"]:
        return False
    return any(role.name in ADMIN_ROLES for role in account.roles)


def has_authenticator(account: Account) -> bool:
    """Whether ``account`` has a confirmed TOTP authenticator."""
    return (
        db.session.scalar(
            select(TotpFactor.id).where(
                TotpFactor.account_id == account.id, TotpFactor.confirmed_at.is_not(None)
            )
        )
        is not None
    )
