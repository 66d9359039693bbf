"""Admin API: clients (spec §3.3). A secret is shown once, on create and on rotation."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.accounts.mfa_policy import CLIENT_POLICIES
from app.api.auth import requires
from app.api.common import PageQuerySchema, StrictBoolean, Text, page_dict, page_schema
from app.clients import service
from app.models import Client
from app.models.clients import AUTH_METHODS, GRANT_TYPES
from app.pagination import decode_cursor
from config import SIGNUP_MODES

blp = Blueprint("clients_api", __name__, description="Manage clients (relying parties).")

_URI = Text(validate=validate.Length(max=service.URI_LENGTH))
_URIS = {"validate": validate.Length(max=50)}
_SIGNUP_MODE = (
    "Who may register through this client: 'public' anyone, 'restricted' "
    "only with a valid invitation, 'closed' nobody; null follows the global SIGNUP_MODE."
)


_MFA = (
    "Second factor after a password: 'required' for everyone, 'optional' for people "
    "who set one up, 'off' only where a person's roles need it (MFA_FOR_ADMIN_ROLES); "
    "default 'off'. A passkey sign-in counts as two factors."
)


def _mfa_field(**kwargs) -> fields.String:
    """The ``mfa`` policy field (issue 16), documented for the OpenAPI spec."""
    return fields.String(
        validate=validate.OneOf(CLIENT_POLICIES), metadata={"description": _MFA}, **kwargs
    )


def _signup_mode_field(**kwargs) -> fields.String:
    """The nullable ``signup_mode`` field, documented for the OpenAPI spec."""
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(SIGNUP_MODES),
        metadata={"description": _SIGNUP_MODE},
        **kwargs,
    )


class ClientSchema(Schema):
    """A client as the API shows it (never its secret or the secret's hash)."""

    client_id = fields.String(required=True)
    name = fields.String(required=True)
    redirect_uris = fields.List(fields.String(), required=True)
    post_logout_redirect_uris = fields.List(fields.String(), required=True)
    initiate_login_uri = fields.String(required=True, allow_none=True)
    grant_types = fields.List(fields.String(), required=True)
    scope = fields.String(required=True)
    public = fields.Boolean(required=True)
    token_endpoint_auth_method = fields.String(required=True)
    first_party = fields.Boolean(required=True)
    require_pkce = fields.Boolean(required=True)
    signup_mode = _signup_mode_field(required=True)
    mfa = _mfa_field(required=True)
    created_at = fields.DateTime(required=True)
    secret_rotated_at = fields.DateTime(required=True, allow_none=True)


class IssuedClientSchema(ClientSchema):
    """A client right after create or rotation: the only time its secret is shown."""

    client_secret = fields.String(
        required=True, allow_none=True, metadata={"description": "null for public clients"}
    )


ClientPageSchema = page_schema(ClientSchema, "ClientPage")


class ClientCreateSchema(Schema):
    """The body of POST /clients."""

    name = Text(required=True, validate=validate.Length(min=1, max=128))
    client_id = Text(
        validate=validate.Regexp(r"^[A-Za-z0-9._~-]{1,64}$"),
        metadata={"description": "generated when left out"},
    )
    redirect_uris = fields.List(_URI, **_URIS)
    post_logout_redirect_uris = fields.List(_URI, **_URIS)
    initiate_login_uri = Text(validate=validate.Length(max=service.URI_LENGTH), allow_none=True)
    grant_types = fields.List(
        fields.String(validate=validate.OneOf(GRANT_TYPES)), validate=validate.Length(min=1, max=3)
    )
    scope = Text(
        validate=validate.Length(max=service.SCOPE_LENGTH),
        metadata={"description": "space-separated; each among the server's scopes"},
    )
    public = StrictBoolean(metadata={"description": "no secret; authenticates with 'none'"})
    auth_method = fields.String(
        data_key="token_endpoint_auth_method", validate=validate.OneOf(AUTH_METHODS)
    )
    first_party = StrictBoolean()
    require_pkce = StrictBoolean()
    signup_mode = _signup_mode_field()
    mfa = _mfa_field()

    @validates_schema
    def _public_means_no_secret(self, data: dict, **kwargs) -> None:
        method = data.get("auth_method")
        if method and (method == "none") != data.get("public", method == "none"):
            raise ValidationError(
                "public clients use 'none', confidential ones another method",
                "token_endpoint_auth_method",
            )


class ClientUpdateSchema(Schema):
    """The body of PATCH /clients/{client_id}: fields given replace the stored ones."""

    name = Text(validate=validate.Length(min=1, max=128))
    redirect_uris = fields.List(_URI, **_URIS)
    post_logout_redirect_uris = fields.List(_URI, **_URIS)
    initiate_login_uri = Text(validate=validate.Length(max=service.URI_LENGTH), allow_none=True)
    scope = Text(validate=validate.Length(max=service.SCOPE_LENGTH))
    first_party = StrictBoolean()
    require_pkce = StrictBoolean()
    signup_mode = _signup_mode_field()
    mfa = _mfa_field()


def to_dict(client: Client) -> dict:
    """The API view of a client."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "initiate_login_uri": client.initiate_login_uri,
        "grant_types": client.grant_types,
        "scope": client.scope,
        "public": client.is_public,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "first_party": client.first_party,
        "require_pkce": client.require_pkce,
        "signup_mode": client.signup_mode,
        "mfa": client.mfa,
        "created_at": client.created_at,
        "secret_rotated_at": client.secret_rotated_at,
    }


@blp.route("/clients", methods=["GET"])
@requires("clients.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, ClientPageSchema)
def list_clients(args: dict):
    """Every client, oldest first, one page at a time."""
    after = decode_cursor("clients", args.get("cursor"))
    return page_dict(service.page_of_clients(after, args["limit"]), to_dict, "clients")


@blp.route("/clients", methods=["POST"])
@requires("clients.write")
@blp.arguments(ClientCreateSchema)
@blp.response(201, IssuedClientSchema)
def create_client(body: dict):
    """Register a client; the response carries its secret, shown only this once."""
    client, secret = service.create_client(
        body.pop("name"), body.pop("redirect_uris", []), **body, **service.policy()
    )
    return {**to_dict(client), "client_secret": secret}


@blp.route("/clients/<client_id>", methods=["GET"])
@requires("clients.read")
@blp.response(200, ClientSchema)
def get_client(client_id: str):
    """One client by its client_id."""
    return to_dict(service.get_client(client_id))


@blp.route("/clients/<client_id>", methods=["PATCH"])
@requires("clients.write")
@blp.arguments(ClientUpdateSchema)
@blp.response(200, ClientSchema)
def update_client(body: dict, client_id: str):
    """Change a client's URIs, scope, name, first-party flag, PKCE policy, sign-up mode
    or second-factor policy (mfa)."""
    return to_dict(service.update_client(client_id, body, **service.policy()))


@blp.route("/clients/<client_id>/rotate-secret", methods=["POST"])
@requires("clients.write")
@blp.response(200, IssuedClientSchema)
def rotate_client_secret(client_id: str):
    """Replace a confidential client's secret; the new one is shown only this once."""
    secret = service.rotate_secret(client_id)
    return {**to_dict(service.get_client(client_id)), "client_secret": secret}
