"""Keyset pagination: pages ordered by a growing integer key, so rows added or removed
while someone pages through never make a page repeat or skip a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db


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
