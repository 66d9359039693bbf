"""Storing, finding and revoking tokens. Only hashes ever reach the database."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import joinedload

from app.crypto import hash_secret
from app.extensions import db
from app.models import Token, utcnow
from app.models.oauth import new_family_id

_INSERT_TOKEN = insert(Token.__table__)


def save_token(token: dict, request) -> None:
    """Persist a freshly generated token response (Authlib's ``save_token`` hook); the
    grant commits it with the rest of the request (``grants.OneCommit``).

    One Core INSERT rather than an ORM object: nothing in the request reads the row
    back, and the unit of work flushing one new object was the costliest step of a
    client_credentials request after its commit.
    """
    now = utcnow()
    if request.authorization_code is not None:
        family = request.authorization_code.family_id
    elif request.refresh_token is not None:
        family = request.refresh_token.family_id
    else:
        family = new_family_id()
    refresh = token.get("refresh_token")
    values = dict(
        client_id=request.client.id,
        account_id=request.user.id if request.user is not None else None,
        access_token_hash=hash_secret(token["access_token"]),
        refresh_token_hash=hash_secret(refresh) if refresh else None,
        scope=token.get("scope", ""),
        family_id=family,
        issued_at=now,
        access_token_expires_at=now + timedelta(seconds=int(token["expires_in"])),
        refresh_token_expires_at=(
            now + timedelta(seconds=current_app.config["REFRESH_TOKEN_LIFETIME"])
            if refresh
            else None
        ),
    )
    db.session.connection().execute(_INSERT_TOKEN, values)


def find_token(token_string: str | None, hint: str | None = None) -> Token | None:
    """The row whose access or refresh token is ``token_string``; the hint is tried first."""
    if not token_string:
        return None
    digest = hash_secret(token_string)
    kinds = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        column = Token.refresh_token_hash if kind == "refresh_token" else Token.access_token_hash
        row = db.session.scalar(
            select(Token).where(column == digest).options(joinedload(Token.account))
        )
        if row is not None:
            row.presented = kind
            return row
    return None


def revoke_family(family_id: str) -> None:
    """Revoke every access and refresh token descending from one grant (not committed).

    One statement, so concurrent revocations lock the family's rows in one order.
    """
    now = utcnow()
    db.session.execute(
        update(Token)
        .where(Token.family_id == family_id)
        .values(
            access_token_revoked_at=func.coalesce(Token.access_token_revoked_at, now),
            refresh_token_revoked_at=func.coalesce(Token.refresh_token_revoked_at, now),
        )
        .execution_options(synchronize_session=False)
    )
