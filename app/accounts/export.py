"""What Vestibule holds about a person, for the account page (issue 15): the invitations
they accepted, and everything as one JSON document they can download (their profile,
memberships, sessions, applications, invitations and what they did here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.accounts.active_sessions import active_sessions
from app.accounts.applications import granted
from app.extensions import db
from app.models import Account, Event, Invitation, utcnow

#: The newest events the person caused that the export carries.
MAX_EVENTS = 1000


def accepted_invitations(account: Account) -> list[Invitation]:
    """The invitations this account was created or joined by, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.accepted_sub == account.sub)
            .order_by(Invitation.accepted_at.desc(), Invitation.id.desc())
        )
    )


def export(account: Account) -> dict[str, Any]:
    """The account's data as plain JSON values (times in ISO 8601, UTC). Reads only."""
    return {
        "exported_at": _iso(utcnow()),
        "account": _profile(account),
        "groups": sorted(group.name for group in account.groups),
        "roles": sorted(role.name for role in account.roles),
        "sessions": [
            {
                "signed_in_at": _iso(row.auth_time),
                "last_seen_at": _iso(row.last_seen_at),
                "expires_at": _iso(row.expires_at),
                "browser": row.user_agent,
                "ip_address": row.ip_address,
            }
            for row in active_sessions(account)
        ],
        "applications": [
            {
                "client_id": grant.client_id,
                "name": grant.name,
                "scopes": list(grant.scopes),
                "granted_at": _iso(grant.granted_at),
            }
            for grant in granted(account)
        ],
        "invitations": [_invitation(row) for row in accepted_invitations(account)],
        "events": _events(account),
    }


def _profile(account: Account) -> dict[str, Any]:
    return {
        "sub": account.sub,
        "email": account.email,
        "email_verified": account.email_verified,
        "phone_number": account.phone_number,
        "phone_number_verified": account.phone_number_verified,
        "given_name": account.given_name,
        "family_name": account.family_name,
        "custom_fields": account.custom_fields,
        "public_metadata": account.public_metadata,
        "created_at": _iso(account.created_at),
        "updated_at": _iso(account.updated_at),
    }


def _invitation(row: Invitation) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "client_id": row.client.client_id if row.client is not None else None,
        "client_name": row.client.name if row.client is not None else None,
        "groups": sorted(group.name for group in row.groups),
        "roles": sorted(role.name for role in row.roles),
        "created_at": _iso(row.created_at),
        "accepted_at": _iso(row.accepted_at),
    }


def _events(account: Account) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Event)
        .where(Event.actor == f"account:{account.sub}")
        .order_by(Event.id.desc())
        .limit(MAX_EVENTS)
    )
    return [
        {"type": row.type, "occurred_at": _iso(row.occurred_at), "data": row.data} for row in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
