"""Admin API: users (spec §3.3). Invited people appear here once they have registered."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from app.access import (
    refuse_account_beyond_caller,
    refuse_roles_beyond_caller,
    refuse_vouching_beyond_caller,
)
from app.accounts import deletion, password_links, validation
from app.accounts import service as accounts
from app.api.auth import actor, caller, requires
from app.api.common import (
    JsonObject,
    NameList,
    PageQuerySchema,
    StrictBoolean,
    Text,
    page_dict,
    page_schema,
)
from app.models import Account
from app.pagination import decode_cursor
from config import Config

blp = Blueprint("users_api", __name__, description="Manage users.")

_NAME = {"validate": validate.Length(max=validation.NAME_LENGTH), "allow_none": True}
_PHONE = {
    "validate": validate.Length(max=32),
    "allow_none": True,
    "metadata": {"description": "E.164, e.g. +4915112345678"},
}
#: Who may set ``email_verified`` or ``phone_number_verified`` to true.
_VOUCHING = (
    "true vouches that the address is the person's: a client needs the scope "
    "users:verify, a person the role admin (403 otherwise); false is always allowed"
)
_ROLES = {
    "metadata": {
        "description": "role names; a client needs the scope roles:grant for the built-in "
        "roles admin, secondary_admin and user_invite, a person their powers (403 otherwise)"
    }
}


class UserSchema(Schema):
    """An account as the API shows it (never its password hash)."""

    sub = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    email_verified = fields.Boolean(required=True)
    phone_number = fields.String(required=True, allow_none=True)
    phone_number_verified = fields.Boolean(required=True)
    given_name = fields.String(required=True, allow_none=True)
    family_name = fields.String(required=True, allow_none=True)
    groups = fields.List(fields.String(), required=True)
    roles = fields.List(fields.String(), required=True)
    custom_fields = fields.Dict(required=True)
    public_metadata = fields.Dict(required=True)
    disabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


UserPageSchema = page_schema(UserSchema, "UserPage")


class UserQuerySchema(PageQuerySchema):
    """Search criteria for GET /users; each one given narrows the result."""

    q = Text(
        validate=validate.Length(max=200),
        metadata={"description": "part of the email, given or family name, any case"},
    )
    email = Text(validate=validate.Length(max=320))
    group = Text(validate=validate.Length(max=64), metadata={"description": "a group name"})
    role = Text(validate=validate.Length(max=64), metadata={"description": "a role name"})
    disabled = fields.Boolean()


class UserCreateSchema(Schema):
    """The body of POST /users."""

    email = Text(required=True, validate=validate.Length(max=320), metadata={"format": "email"})
    password = Text(
        validate=validate.Length(
            min=validation.MIN_PASSWORD_LENGTH, max=validation.MAX_PASSWORD_LENGTH
        ),
        metadata={"description": "optional; without one the person cannot sign in yet"},
    )
    given_name = Text(**_NAME)
    family_name = Text(**_NAME)
    phone_number = Text(**_PHONE)
    email_verified = StrictBoolean(metadata={"description": _VOUCHING})
    groups = NameList()
    roles = NameList(**_ROLES)
    custom_fields = JsonObject()
    public_metadata = JsonObject()


class UserUpdateSchema(Schema):
    """The body of PATCH /users/{sub}: fields given replace the stored ones."""

    given_name = Text(**_NAME)
    family_name = Text(**_NAME)
    phone_number = Text(**_PHONE)
    phone_number_verified = StrictBoolean(metadata={"description": _VOUCHING})
    email_verified = StrictBoolean(metadata={"description": _VOUCHING})
    groups = NameList()
    roles = NameList(**_ROLES)
    custom_fields = JsonObject()
    public_metadata = JsonObject()


class PasswordLinkRequestSchema(Schema):
    """The body of POST /users/{sub}/password-link."""

    expires_in = fields.Integer(
        strict=True,
        validate=validate.Range(
            min=password_links.MIN_LIFETIME, max=Config.SET_PASSWORD_MAX_LIFETIME
        ),
        metadata={"description": "seconds the link works; default 7 days"},
    )
    notify = StrictBoolean(
        metadata={"description": "email the link to the account (default) or only return it"}
    )
    lang = Text(
        validate=validate.Length(max=16),
        metadata={
            "description": "language of the email, e.g. en or de; default: DEFAULT_LANG (en)"
        },
    )


class PasswordLinkSchema(Schema):
    """A set-password link, shown only in this answer."""

    link = fields.String(required=True, metadata={"description": "works once, until expires_at"})
    expires_at = fields.DateTime(required=True)


def to_dict(account: Account) -> dict:
    """The API view of an account."""
    return {
        "sub": account.sub,
        "email": account.email,
        "email_verified": account.email_verified,
        "phone_number": account.phone_number,
        "phone_number_verified": account.phone_number_verified,
        "given_name": account.given_name,
        "family_name": account.family_name,
        "groups": sorted(group.name for group in account.groups),
        "roles": sorted(role.name for role in account.roles),
        "custom_fields": account.custom_fields,
        "public_metadata": account.public_metadata,
        "disabled": account.disabled,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


@blp.route("/users", methods=["GET"])
@requires("users.read")
@blp.arguments(UserQuerySchema, location="query", unknown=RAISE)
@blp.response(200, UserPageSchema)
def list_users(args: dict):
    """Search accounts, oldest first, one page at a time."""
    after, limit = decode_cursor("users", args.pop("cursor", None)), args.pop("limit")
    page = accounts.search(accounts.AccountFilters(**args), after, limit)
    return page_dict(page, to_dict, "users")


@blp.route("/users", methods=["POST"])
@requires("users.write")
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def create_user(body: dict):
    """Create an account; unknown groups or roles are a 400.

    Built-in roles need a client's scope roles:grant (or a person's powers), and
    email_verified true the scope users:verify (or the role admin): 403 otherwise.
    """
    refuse_roles_beyond_caller(caller(), body.get("roles", ()))
    refuse_vouching_beyond_caller(caller(), bool(body.get("email_verified")))
    return to_dict(accounts.create(accounts.AccountInput(**body), actor()))


@blp.route("/users/<sub>", methods=["GET"])
@requires("users.read")
@blp.response(200, UserSchema)
def get_user(sub: str):
    """One account by its ``sub``."""
    return to_dict(accounts.find(sub))


@blp.route("/users/<sub>", methods=["PATCH"])
@requires("users.write")
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
def update_user(body: dict, sub: str):
    """Change an account's names, phone number, groups, roles, metadata or verification.

    403 when the account holds (or would get) a role beyond the caller's powers (a
    client needs roles:grant for the built-in roles), or when marking an address
    verified without users:verify (a person: without the role admin).
    """
    refuse_account_beyond_caller(caller(), sub, body.get("roles", ()))
    refuse_vouching_beyond_caller(
        caller(), bool(body.get("email_verified") or body.get("phone_number_verified"))
    )
    return to_dict(accounts.update(sub, body, actor()))


@blp.route("/users/<sub>", methods=["DELETE"])
@requires("users.write")
@blp.response(204)
def delete_user(sub: str):
    """Delete an account: its sessions, tokens, consents and links end with it, and
    user.deleted is sent to webhooks.

    409 when a person asks to delete their own account (the account page does that,
    with the password); 403 for an account whose roles are beyond the caller's powers.
    """
    refuse_account_beyond_caller(caller(), sub)
    deletion.delete(sub, actor())


@blp.route("/users/<sub>/disable", methods=["POST"])
@requires("users.write")
@blp.response(200, UserSchema)
def disable_user(sub: str):
    """Disable an account: sign-in refused, sessions ended, tokens revoked.

    409 when a person asks to disable their own account; 403 for an account whose
    roles are beyond the caller's powers.
    """
    refuse_account_beyond_caller(caller(), sub)
    return to_dict(accounts.disable(sub, actor()))


@blp.route("/users/<sub>/enable", methods=["POST"])
@requires("users.write")
@blp.response(200, UserSchema)
def enable_user(sub: str):
    """Let a disabled account sign in again (403 beyond the caller's powers)."""
    refuse_account_beyond_caller(caller(), sub)
    return to_dict(accounts.enable(sub, actor()))


@blp.route("/users/<sub>/password-link", methods=["POST"])
@requires("users.write")
@blp.arguments(PasswordLinkRequestSchema)
@blp.response(201, PasswordLinkSchema)
def issue_password_link(body: dict, sub: str):
    """Issue a set-password (recovery) link, emailed to the account unless notify is false.

    The account's earlier unused set-password links stop working. 403 for an account
    whose roles are beyond the caller's powers.
    """
    refuse_account_beyond_caller(caller(), sub)
    row, link = password_links.issue_set_link(sub, actor(), **body)
    return {"link": link, "expires_at": row.expires_at}
