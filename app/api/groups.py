"""Admin API: groups and roles (spec §3.3, §3.6), and who belongs to them."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from app.access import refuse_account_beyond_caller
from app.accounts import groups
from app.api.auth import actor, caller, requires
from app.api.common import PageQuerySchema, Text, page_dict, page_schema
from app.api.users import UserPageSchema
from app.api.users import to_dict as user_dict
from app.models import Group, Role
from app.pagination import decode_cursor

blp = Blueprint("groups_api", __name__, description="Manage groups, roles and their members.")


class GroupSchema(Schema):
    """A group."""

    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class RoleSchema(GroupSchema):
    """A role (spec §3.6: ``admin``, ``secondary_admin`` and ``user_invite`` grant API powers)."""


GroupPageSchema = page_schema(GroupSchema, "GroupPage")
RolePageSchema = page_schema(RoleSchema, "RolePage")


class NameSchema(Schema):
    """The body that names a new group or role, or renames a group."""

    name = Text(
        required=True,
        validate=[validate.Length(min=1, max=64), validate.Regexp(f"^{groups.NAME.pattern}$")],
        metadata={"description": "letters, digits, '-', '_', '.' or ':'"},
    )


def to_dict(row: Group | Role) -> dict:
    """The API view of a group or role."""
    return {"name": row.name, "created_at": row.created_at}


# -- groups ----------------------------------------------------------------------------


@blp.route("/groups", methods=["GET"])
@requires("users.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, GroupPageSchema)
def list_groups(args: dict):
    """Every group, oldest first, one page at a time."""
    after = decode_cursor("groups", args.get("cursor"))
    return page_dict(groups.list_all(Group, after, args["limit"]), to_dict, "groups")


@blp.route("/groups", methods=["POST"])
@requires("users.write")
@blp.arguments(NameSchema)
@blp.response(201, GroupSchema)
def create_group(body: dict):
    """Create a group; 409 when the name is taken."""
    return to_dict(groups.create(Group, body["name"], actor()))


@blp.route("/groups/<name>", methods=["GET"])
@requires("users.read")
@blp.response(200, GroupSchema)
def get_group(name: str):
    """One group by its name."""
    return to_dict(groups.find(Group, name))


@blp.route("/groups/<name>", methods=["PATCH"])
@requires("users.write")
@blp.arguments(NameSchema)
@blp.response(200, GroupSchema)
def rename_group(body: dict, name: str):
    """Rename a group; its members stay."""
    return to_dict(groups.rename(Group, name, body["name"], actor()))


@blp.route("/groups/<name>/members", methods=["GET"])
@requires("users.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, UserPageSchema)
def list_group_members(args: dict, name: str):
    """The group's members, oldest account first, one page at a time."""
    after = decode_cursor("group members", args.get("cursor"))
    page = groups.members(Group, name, after, args["limit"])
    return page_dict(page, user_dict, "group members")


@blp.route("/groups/<name>/members/<sub>", methods=["PUT"])
@requires("users.write")
@blp.response(204)
def add_group_member(name: str, sub: str):
    """Put an account in the group (no change if it already is); 403 for an account
    whose roles are beyond the caller's powers."""
    refuse_account_beyond_caller(caller(), sub)
    groups.add_member(Group, name, sub, actor())


@blp.route("/groups/<name>/members/<sub>", methods=["DELETE"])
@requires("users.write")
@blp.response(204)
def remove_group_member(name: str, sub: str):
    """Take an account out of the group (no change if it is not in it); 403 for an
    account whose roles are beyond the caller's powers."""
    refuse_account_beyond_caller(caller(), sub)
    groups.remove_member(Group, name, sub, actor())


# -- roles -----------------------------------------------------------------------------


@blp.route("/roles", methods=["GET"])
@requires("users.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, RolePageSchema)
def list_roles(args: dict):
    """Every role, oldest first, one page at a time."""
    after = decode_cursor("roles", args.get("cursor"))
    return page_dict(groups.list_all(Role, after, args["limit"]), to_dict, "roles")


@blp.route("/roles", methods=["POST"])
@requires("users.write")
@blp.arguments(NameSchema)
@blp.response(201, RoleSchema)
def create_role(body: dict):
    """Create a role; 409 when the name is taken."""
    return to_dict(groups.create(Role, body["name"], actor()))


@blp.route("/roles/<name>", methods=["GET"])
@requires("users.read")
@blp.response(200, RoleSchema)
def get_role(name: str):
    """One role by its name."""
    return to_dict(groups.find(Role, name))


@blp.route("/roles/<name>/members", methods=["GET"])
@requires("users.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, UserPageSchema)
def list_role_members(args: dict, name: str):
    """The accounts holding the role, oldest first, one page at a time."""
    after = decode_cursor("role members", args.get("cursor"))
    page = groups.members(Role, name, after, args["limit"])
    return page_dict(page, user_dict, "role members")


@blp.route("/roles/<name>/members/<sub>", methods=["PUT"])
@requires("users.write")
@blp.response(204)
def add_role_member(name: str, sub: str):
    """Give an account the role (no change if it holds it already).

    403 when the role or the account's own are beyond the caller's powers (a client
    needs roles:grant for the built-in roles).
    """
    refuse_account_beyond_caller(caller(), sub, [name])
    groups.add_member(Role, name, sub, actor())


@blp.route("/roles/<name>/members/<sub>", methods=["DELETE"])
@requires("users.write")
@blp.response(204)
def remove_role_member(name: str, sub: str):
    """Take the role from an account (no change if it does not hold it); 403 as for PUT."""
    refuse_account_beyond_caller(caller(), sub, [name])
    groups.remove_member(Role, name, sub, actor())
