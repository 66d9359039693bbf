"""Keyset pagination: pages ordered by a growing integer key, so rows added or removed
while someone pages through never make a page repeat or skip a row. The key travels
between pages as an opaque cursor, read and written the same way by the admin API and
the dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db

#: A hexadecimal key below 2**31 (the integer primary keys' range on PostgreSQL).
_CURSOR = re.compile(r"^[0-7]?[0-9a-f]{1,7}$")


@dataclass
class Page:
    """One page of rows and the key to continue after (None on the last page)."""

    items: list[Any]
    next_after: int | None


def keyset_page(stmt: Select, key: InstrumentedAttribute, after: int | None, limit: int) -> Page:
    """The ``limit`` rows of ``stmt`` whose ``key`` follows ``after``, in key order."""
    if after is not None:
        stmt = stmt.where(key > after)
    rows = list(db.session.scalars(stmt.order_by(key).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, getattr(rows[-1], key.key))


class Cursor(fields.String):
    """The ``next_cursor`` of an earlier page, read back as the key to go on after.

    Opaque to callers; every value matching the documented pattern is a valid place
    to continue from, so a well-formed cursor is never refused.
    """

    def __init__(self, **kwargs):
        kwargs["metadata"] = {**kwargs.get("metadata", {}), "pattern": _CURSOR.pattern}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _CURSOR.fullmatch(text):
            raise ValidationError("Not a cursor from an earlier page.")
        return int(text, 16)


def encode_cursor(after: int | None) -> str | None:
    """The cursor that continues after key ``after`` (None: no further page)."""
    return None if after is None else format(after, "x")
