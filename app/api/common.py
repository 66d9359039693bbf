"""Pieces the admin API resources share: fields that only accept what the database
can store, cursor pagination, and the rule that nobody grants more than they hold."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from app.accounts import service as accounts
from app.accounts.groups import BUILT_IN_ROLES
from app.api.auth import (
    GRANT_ROLES_SCOPE,
    ROLE_ACTIONS,
    VOUCH_SCOPE,
    Forbidden,
    MissingScope,
    actor,
    machine_holds,
)
from app.models import Account
from app.pagination import Page

#: Most rows one page may hold.
MAX_PAGE_SIZE = 200
#: A hexadecimal key below 2**31 (the integer primary keys' range on PostgreSQL).
_CURSOR = re.compile(r"^[0-7]?[0-9a-f]{1,7}$")


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


def page_dict(page: Page, to_dict: Callable[[Any], dict]) -> dict:
    """The API view of one page."""
    return {
        "items": [to_dict(row) for row in page.items],
        "next_cursor": encode_cursor(page.next_after),
    }


def refuse_roles_beyond_callers(role_names: Iterable[str]) -> None:
    """A caller may grant, take away or act on roles only within their own powers
    (spec §3.6): a person within their roles' (a ``secondary_admin`` cannot make anyone
    an ``admin``), a machine on the built-in roles only with the scope ``roles:grant``.
    The CLI (an operator on the server) is not limited."""
    names = set(role_names)
    kind, _, ident = actor().partition(":")
    if kind == "account":
        _refuse_beyond_person(accounts.find(ident), names)
    elif kind == "client":
        built_in = sorted(names & BUILT_IN_ROLES)
        if built_in and not machine_holds(GRANT_ROLES_SCOPE):
            what = f"granting, taking away or acting on the built-in role {', '.join(built_in)}"
            raise MissingScope(GRANT_ROLES_SCOPE, what)


def _refuse_beyond_person(caller: Account, names: set[str]) -> None:
    own: set[str] = set()
    for role in caller.roles:
        own |= ROLE_ACTIONS.get(role.name, frozenset())
    beyond = sorted(name for name in names if not ROLE_ACTIONS.get(name, frozenset()) <= own)
    if beyond:
        raise Forbidden(f"your roles do not allow granting or acting on {', '.join(beyond)}")


def refuse_account_beyond_caller(sub: str, granting: Iterable[str] = ()) -> None:
    """Every write to an account (its fields, groups, roles, disabling, password links)
    needs the powers of the roles it holds and of those it is given: a
    ``secondary_admin`` cannot edit an ``admin`` at all, nor a machine without
    ``roles:grant``."""
    held = {role.name for role in accounts.find(sub).roles}
    refuse_roles_beyond_callers(held | set(granting))


def refuse_invitation_beyond_caller(public_id: str) -> None:
    """Resending or revoking an invitation acts on the roles it will grant: a caller
    may do it only within their own powers (a resent link is shown to the resender
    when the invitation sends no message, so a ``user_invite`` could otherwise pass
    an ``admin`` invitation to anyone)."""
    from app.invitations import service as invitations

    refuse_roles_beyond_callers(role.name for role in invitations.find(public_id).roles)


def refuse_vouching_beyond_caller(vouches: bool) -> None:
    """Marking an address verified that Vestibule did not deliver to is vouching for
    it: a machine needs the scope ``users:verify``, a person the role ``admin``."""
    if not vouches:
        return
    kind, _, ident = actor().partition(":")
    if kind == "client" and not machine_holds(VOUCH_SCOPE):
        raise MissingScope(VOUCH_SCOPE, "marking an address verified")
    if kind == "account" and "admin" not in {role.name for role in accounts.find(ident).roles}:
        raise Forbidden("only an admin may mark an address verified")
