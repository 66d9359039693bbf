"""Admin API: creating invitations, one (``POST /invitations``, idempotent with an
Idempotency-Key) or up to 1,000 at once (``POST /invitations/bulk``, a result per row)."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields

from app.access import may_read_users, refuse_roles_beyond_caller, refuse_vouching_beyond_caller
from app.api import idempotency
from app.api.auth import actor, caller, requires
from app.api.invitations import blp
from app.api.invitations.schemas import (
    InvitationCreateSchema,
    IssuedInvitationSchema,
    invitation_input,
    issued_dict,
)
from app.errors import DomainError
from app.invitations import creation
from app.invitations.errors import AccountExists
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.web.i18n import accept_languages
from config import Config

CREATE_EXAMPLE = {
    "email": "ada@example.com",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "notify": False,
    "expires_in": 7 * 24 * 3600,
}


@blp.route("/invitations", methods=["POST"])
@requires("invitations.create")
@blp.arguments(InvitationCreateSchema, example=CREATE_EXAMPLE)
@blp.response(201, IssuedInvitationSchema, headers=idempotency.REPLAYED_HEADER_DOC)
@blp.doc(parameters=[idempotency.KEY_PARAMETER])
def create_invitation(body: dict):
    """Create an invitation; the response carries its link, shown only this once.

    With an Idempotency-Key header a retry of the same request gets the same answer.
    A person may only invite into roles within their own (a ``user_invite`` cannot
    hand out ``admin``), a client into the built-in roles only with the scope
    roles:grant, and email_verified true needs users:verify (a person: the role
    admin): 403 otherwise. An invitation granting a built-in role is bound to its
    email (allow_same_email true).

    An address that belongs to an account is refused (409, naming the account's sub to
    callers allowed to read users) unless existing_account is "join": the invitation is
    then for that account, which signs in to accept it.
    """
    refuse_roles_beyond_caller(caller(), body.get("roles") or ())
    refuse_vouching_beyond_caller(caller(), bool(body.get("email_verified")))
    data = invitation_input(body)

    def create(remember):
        try:
            return creation.create(data, actor(), accept_languages(), remember)
        except AccountExists as exc:
            raise _naming_account(exc) from None

    return idempotency.once(
        create,
        render=lambda issued: IssuedInvitationSchema().dump(issued_dict(issued)),
        status=201,
        actor=actor(),
    )


def _naming_account(exc: AccountExists) -> AccountExists:
    """The refusal, naming the account (its sub) to a caller allowed to read users."""
    return exc.named() if may_read_users(caller()) else exc


def _within_bulk_limit(rows: list) -> None:
    limit = current_app.config["BULK_INVITATION_LIMIT"]
    if len(rows) > limit:
        raise ValidationError(f"At most {limit} invitations per request.")


class BulkCreateSchema(Schema):
    """The body of POST /invitations/bulk."""

    invitations = fields.List(
        fields.Dict(),
        required=True,
        validate=_within_bulk_limit,
        metadata={
            "maxItems": Config.BULK_INVITATION_LIMIT,
            "description": "Rows shaped like the body of POST /invitations "
            "(InvitationCreate). A malformed row gets its own 422 result.",
        },
    )


class BulkRowSchema(Schema):
    """The result of one row: its invitation (status 201) or its error (4xx)."""

    index = fields.Integer(required=True, metadata={"description": "position in the request"})
    status = fields.Integer(required=True, metadata={"description": "201, or 400, 403, 409, 422"})
    invitation = fields.Nested(IssuedInvitationSchema, metadata={"description": "when 201"})
    error = fields.String(metadata={"description": "when not 201, as in Error"})
    error_description = fields.String()
    errors = fields.Dict(metadata={"description": "per-field messages of a malformed row"})
    field = fields.String(metadata={"description": "the invalid field"})
    invitation_id = fields.String(metadata={"description": "the conflicting invitation"})
    sub = fields.String(
        metadata={"description": "the account holding the address (to callers reading users)"}
    )


class BulkResultSchema(Schema):
    """One result per row, in request order, and the totals."""

    results = fields.List(fields.Nested(BulkRowSchema), required=True)
    created = fields.Integer(required=True)
    failed = fields.Integer(required=True)


ROW_SCHEMA = InvitationCreateSchema()


class InvalidRow(DomainError):
    """A bulk row that does not match InvitationCreate."""

    status = 422

    def __init__(self, messages: dict):
        super().__init__("The row is invalid.", errors=messages)


BULK_EXAMPLE = {
    "invitations": [
        {"email": "grace@example.com", "given_name": "Grace"},
        {"mobile_number": "+4915112345678", "notify": False},
    ]
}


@blp.route("/invitations/bulk", methods=["POST"])
@requires("invitations.create")
@blp.arguments(BulkCreateSchema, example=BULK_EXAMPLE)
@blp.response(200, BulkResultSchema)
def bulk_create_invitations(body: dict):
    """Create up to 1,000 invitations; a row that fails does not stop the others."""
    items = [_bulk_item(row) for row in body["invitations"]]
    outcomes = creation.create_each(items, actor(), accept_languages())
    results = [_bulk_row(index, outcome) for index, outcome in enumerate(outcomes)]
    created = sum(1 for row in results if row["status"] == 201)
    return {"results": results, "created": created, "failed": len(results) - created}


def _bulk_item(row: dict) -> InvitationInput | DomainError:
    try:
        data = ROW_SCHEMA.load(row)
        refuse_roles_beyond_caller(caller(), data.get("roles") or ())
        refuse_vouching_beyond_caller(caller(), bool(data.get("email_verified")))
    except ValidationError as exc:
        return InvalidRow(exc.normalized_messages())
    except DomainError as exc:  # powers beyond the caller's own: this row only
        return exc
    return invitation_input(data)


def _bulk_row(index: int, outcome: Issued | DomainError) -> dict:
    if isinstance(outcome, Issued):
        return {"index": index, "status": 201, "invitation": issued_dict(outcome)}
    if isinstance(outcome, AccountExists):
        outcome = _naming_account(outcome)
    error = {"error": outcome.code, "error_description": outcome.description, **outcome.extra}
    return {"index": index, "status": outcome.status, **error}
