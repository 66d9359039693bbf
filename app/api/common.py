"""Pieces the admin API resources share: fields that only accept what the database
can store, and cursor pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from app.pagination import MAX_CURSOR_LENGTH, Page, encode_cursor

#: Most rows one page may hold.
MAX_PAGE_SIZE = 200


class Text(fields.String):
    """A string PostgreSQL can store: no NUL character, no lone surrogate."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Must be valid Unicode.") from None
        return text


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``; strings and numbers are refused."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonObject(fields.Dict):
    """A JSON object with short keys (the service checks its size and content)."""

    def __init__(self, **kwargs):
        super().__init__(keys=Text(validate=validate.Length(max=64)), **kwargs)


class NameList(fields.List):
    """Up to 50 group or role names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Length(max=50))
        super().__init__(Text(validate=validate.Length(max=64)), **kwargs)


class Cursor(fields.String):
    """The ``next_cursor`` of an earlier page: opaque, read back by app/pagination.py,
    which answers 400 for one made for another list, changed or made up."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=MAX_CURSOR_LENGTH), **kwargs)


class PageQuerySchema(Schema):
    """Cursor pagination: pass an answer's ``next_cursor`` back to get the next page."""

    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": "rows per page"},
    )
    cursor = Cursor(metadata={"description": "next_cursor from the previous page"})


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """The schema of one page of ``item`` rows."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "pass as cursor for the next page; null on the last"},
            ),
        },
        name=name,
    )


def page_dict(page: Page, to_dict: Callable[[Any], dict], list_name: str) -> dict:
    """The API view of one page of the list ``list_name``."""
    return {
        "items": [to_dict(row) for row in page.items],
        "next_cursor": encode_cursor(list_name, page.next_after),
    }
