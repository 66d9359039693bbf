"""Finding rows by their public identifier (a UUID shown by the API and in events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db

#: A UUID's length as text; longer identifiers match nothing.
PUBLIC_ID_LENGTH = 36


def by_public_id(model: Any, public_id: str) -> Any | None:
    """The row of ``model`` whose ``public_id`` this is, or None.

    Text that cannot be an identifier (too long, or holding NUL, which PostgreSQL
    cannot even compare) matches nothing without a query.
    """
    if len(public_id) > PUBLIC_ID_LENGTH or "\x00" in public_id:
        return None
    return db.session.scalar(select(model).where(model.public_id == public_id))
