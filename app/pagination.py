"""Keyset pagination, one way for every list of the admin API and the dashboard.

A list is ordered by a few columns ending with a unique one (its id), and a page
continues after the last row it showed, so rows added or removed while someone pages
through never make a page repeat or skip a row. Where to continue (the last row's
sort values, ``Page.next_after``) travels between pages as an opaque cursor, signed
and bound to the list that issued it: a cursor from another list, a changed one or a
made-up one is refused with InvalidCursor (400), never read as some other place.
Filters are not part of a list's identity: like a search, a cursor may continue
under narrower or wider filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import DomainError
from app.extensions import db

#: Longest cursor the API accepts (ours are about 100 characters).
MAX_CURSOR_LENGTH = 512


class InvalidCursor(DomainError):
    """A cursor this server did not issue for this list (400)."""

    def __init__(self, description: str):
        super().__init__(f"cursor: {description}; start again without it", field="cursor")


@dataclass
class Page:
    """One page of rows and where the next one starts (None on the last page): the
    last row's sort values, its id alone when a list is ordered by id."""

    items: list[Any]
    next_after: Any


def keyset_page(
    stmt: Select,
    key: InstrumentedAttribute | tuple[InstrumentedAttribute, ...],
    after: Any,
    limit: int,
    descending: bool = False,
) -> Page:
    """The ``limit`` rows of ``stmt`` following ``after`` in the order of ``key`` (a
    unique column, or columns ending with one), ascending or ``descending``."""
    columns = key if isinstance(key, tuple) else (key,)
    if after is not None:
        position, bound = _position(columns, after)
        stmt = stmt.where(position < bound if descending else position > bound)
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = tuple(getattr(rows[-1], column.key) for column in columns)
    return Page(rows, last if len(columns) > 1 else last[0])


def _position(columns: tuple[InstrumentedAttribute, ...], after: Any) -> tuple[Any, Any]:
    """The SQL for "this row's place" and the place ``after`` names, its values read back
    as the columns' types (a cursor carries datetimes as ISO 8601 text)."""
    values = after if isinstance(after, tuple | list) else (after,)
    try:
        typed = tuple(_typed(column, value) for column, value in zip(columns, values, strict=True))
    except (TypeError, ValueError):
        raise InvalidCursor("not a place in this list") from None
    if len(columns) == 1:
        return columns[0], typed[0]
    return tuple_(*columns), typed


def _typed(column: InstrumentedAttribute, value: Any) -> Any:
    kind = column.type.python_type
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{column.key} is not a {kind.__name__}")
    return value


def encode_cursor(list_name: str, after: Any) -> str | None:
    """The cursor continuing the list ``list_name`` after a page's ``next_after``
    (None when there is no further page)."""
    if after is None:
        return None
    values = after if isinstance(after, tuple) else (after,)
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return _serializer().dumps([list_name, *plain])


def decode_cursor(list_name: str, cursor: str | None) -> Any:
    """Where a cursor of the list ``list_name`` continues (None without a cursor);
    InvalidCursor when it was made for another list, changed or made up."""
    if not cursor:
        return None
    try:
        issued_for, *values = _serializer().loads(cursor)
    except (BadData, TypeError, ValueError):
        raise InvalidCursor("not a cursor from this server") from None
    if issued_for != list_name:
        raise InvalidCursor(f"made for {issued_for!r}, not {list_name!r}")
    return values[0] if len(values) == 1 else tuple(values)


def _serializer() -> URLSafeSerializer:
    # Signed, so a changed cursor is refused rather than silently paging elsewhere.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="vestibule.cursor")
