"""Admin API: invitations (spec §3.3)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from app.access import (
    refuse_invitation_beyond_caller,
    refuse_roles_beyond_caller,
    refuse_vouching_beyond_caller,
)
from app.api import idempotency
from app.api.auth import actor, authorize, caller, requires
from app.api.common import JsonObject, NameList, StrictBoolean, Text, page_schema
from app.errors import DomainError
from app.invitations import creation, queries, service, states
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.models import Invitation
from app.web.i18n import accept_languages
from config import Config

blp = Blueprint(
    "invitations_api", __name__, description="Invite people and follow their invitations."
)

#: PATCH /invitations/{id}: requested state -> the action (and so the role) it needs.
STATE_CHANGES = {"reinitiated": "invitations.resend", "revoked": "invitations.revoke"}

ALLOW_SAME_EMAIL = (
    "the person must register with the invited email; always true (whatever the request "
    "says) when the invitation grants a built-in role (admin, secondary_admin, "
    "user_invite), which also needs an email (400 without one)"
)
ROLES = (
    "role names; the built-in roles (admin, secondary_admin, user_invite) need a client's "
    "scope roles:grant, or a person's own powers (403 otherwise)"
)
EMAIL_VERIFIED = (
    "true: the caller vouches that the email is the person's, so it is verified on "
    "registration even if no message was delivered; needs a client's scope users:verify "
    "or a person's role admin (403 otherwise). Without it the email is verified only when "
    "the invitation's email was delivered, else the person gets a verification link"
)
LINK = (
    "the new landing URL; left out when the invitation sends its own messages (notify) "
    "and the caller is not its creator"
)


class UTCTimestamp(fields.AwareDateTime):
    """An ISO 8601 date-time, read as UTC when it names no offset."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type="datetime") from None


class InvitationCreateSchema(Schema):
    """The body of POST /invitations (spec §3.1)."""

    email = Text(validate=validate.Length(max=320))
    mobile_number = Text(
        validate=validate.Length(max=32), metadata={"description": "E.164, e.g. +4915112345678"}
    )
    given_name = Text(validate=validate.Length(max=128))
    family_name = Text(validate=validate.Length(max=128))
    groups = NameList()
    roles = NameList(metadata={"description": ROLES})
    client_id = Text(validate=validate.Length(max=64))
    redirect_url = Text(validate=validate.Length(max=2048))
    custom_fields = JsonObject()
    public_metadata = JsonObject()
    allow_same_email = StrictBoolean(metadata={"description": ALLOW_SAME_EMAIL})
    email_verified = StrictBoolean(metadata={"description": EMAIL_VERIFIED})
    template_key = Text(validate=validate.Length(max=64))
    lang = Text(validate=validate.Length(max=16))
    notify = StrictBoolean()
    expires_in = fields.Integer(strict=True, metadata={"description": "seconds"})


class InvitationSchema(Schema):
    """An invitation as the API shows it (never its secret token)."""

    id = fields.String(required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(sorted(states.STATES)),
    )
    email = fields.String(allow_none=True)
    mobile_number = fields.String(allow_none=True)
    given_name = fields.String(allow_none=True)
    family_name = fields.String(allow_none=True)
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())
    client_id = fields.String(allow_none=True)
    redirect_url = fields.String(allow_none=True)
    custom_fields = fields.Dict()
    public_metadata = fields.Dict()
    allow_same_email = fields.Boolean(metadata={"description": ALLOW_SAME_EMAIL})
    email_verified = fields.Boolean(metadata={"description": EMAIL_VERIFIED})
    template_key = fields.String()
    lang = fields.String()
    notify = fields.Boolean()
    invited_by = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    resent_count = fields.Integer()
    accepted_at = fields.DateTime(allow_none=True)
    accepted_sub = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    rejected_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime()
    short_link_expires_at = fields.DateTime()


class IssuedInvitationSchema(InvitationSchema):
    """An invitation right after create or resend: the only time its links are shown."""

    link = fields.String(required=True, metadata={"description": "landing URL with invite_id"})
    short_link = fields.String(required=True, metadata={"description": "/i/<token> on this host"})


def to_dict(invitation: Invitation) -> dict:
    """The API view of an invitation."""
    return {
        "id": invitation.public_id,
        "state": service.state_of(invitation),
        "email": invitation.email,
        "mobile_number": invitation.mobile_number,
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        "groups": sorted(group.name for group in invitation.groups),
        "roles": sorted(role.name for role in invitation.roles),
        "client_id": invitation.client.client_id if invitation.client else None,
        "redirect_url": invitation.redirect_url,
        "custom_fields": invitation.custom_fields,
        "public_metadata": invitation.public_metadata,
        "allow_same_email": invitation.allow_same_email,
        "email_verified": invitation.email_verified,
        "template_key": invitation.template_key,
        "lang": invitation.lang,
        "notify": invitation.notify,
        "invited_by": invitation.invited_by,
        "created_at": invitation.created_at,
        "sent_at": invitation.sent_at,
        "resent_count": invitation.resent_count,
        "accepted_at": invitation.accepted_at,
        "accepted_sub": invitation.accepted_sub,
        "revoked_at": invitation.revoked_at,
        "rejected_at": invitation.rejected_at,
        "expires_at": invitation.expires_at,
        "short_link_expires_at": invitation.short_link_expires_at,
    }


def issued_dict(issued: Issued) -> dict:
    """The API view right after create, links included."""
    return {**to_dict(issued.invitation), "link": issued.link, "short_link": issued.short_link}


def resent_dict(issued: Issued) -> dict:
    """The API view right after a resend: the links only for a caller they may go to."""
    if service.shows_link_to(issued.invitation, actor()):
        return issued_dict(issued)
    return to_dict(issued.invitation)


# -- create ----------------------------------------------------------------------------


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
    """
    refuse_roles_beyond_caller(caller(), body.get("roles") or ())
    refuse_vouching_beyond_caller(caller(), bool(body.get("email_verified")))
    data = InvitationInput(**body)
    return idempotency.once(
        lambda remember: creation.create(data, actor(), accept_languages(), remember),
        render=lambda issued: IssuedInvitationSchema().dump(issued_dict(issued)),
        status=201,
        actor=actor(),
    )


# -- bulk ------------------------------------------------------------------------------


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
    return InvitationInput(**data)


def _bulk_row(index: int, outcome: Issued | DomainError) -> dict:
    if isinstance(outcome, Issued):
        return {"index": index, "status": 201, "invitation": issued_dict(outcome)}
    error = {"error": outcome.code, "error_description": outcome.description, **outcome.extra}
    return {"index": index, "status": outcome.status, **error}


# -- list and stats --------------------------------------------------------------------


class InvitationSearchSchema(Schema):
    """Search criteria for GET /invitations; each one given narrows the result."""

    state = fields.String(
        validate=validate.OneOf(sorted(states.STATES)),
        metadata={"description": "effective state: a pending invitation past expiry is expired"},
    )
    email = Text(validate=validate.Length(max=320))
    mobile_number = Text(validate=validate.Length(max=32))
    group = Text(validate=validate.Length(max=64), metadata={"description": "a group name"})
    client_id = Text(validate=validate.Length(max=64))
    invited_by = Text(
        validate=validate.Length(max=128),
        metadata={"description": "account:<sub>, client:<client_id> or cli"},
    )
    created_after = UTCTimestamp(metadata={"description": "created at or after (ISO 8601)"})
    created_before = UTCTimestamp(metadata={"description": "created before (ISO 8601)"})
    expires_after = UTCTimestamp(metadata={"description": "expiring at or after (ISO 8601)"})
    expires_before = UTCTimestamp(metadata={"description": "expiring before (ISO 8601)"})
    q = Text(
        validate=validate.Length(max=200),
        metadata={"description": "part of the email, mobile number, given or family name"},
    )
    sort = fields.String(
        load_default=queries.DEFAULT_SORT,
        validate=validate.OneOf(list(queries.SORTS)),
        metadata={"description": "a leading - sorts newest / latest first"},
    )
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=queries.MAX_LIMIT),
        metadata={"description": "rows per page"},
    )
    cursor = Text(
        validate=validate.Length(max=512),
        metadata={"description": "next_cursor from the previous page (same sort)"},
    )


InvitationPageSchema = page_schema(InvitationSchema, "InvitationPage")


@blp.route("/invitations", methods=["GET"])
@requires("invitations.read")
@blp.arguments(InvitationSearchSchema, location="query")
@blp.response(200, InvitationPageSchema)
def list_invitations(args: dict):
    """Search invitations, a page at a time (pass next_cursor back as cursor)."""
    page = queries.search(queries.Search(**args))
    return {"items": [to_dict(row) for row in page.items], "next_cursor": page.next_cursor}


#: How many invitations are in each effective state (one field per state of states.py).
StateCountsSchema = Schema.from_dict(
    {state: fields.Integer(required=True) for state in sorted(states.STATES)},
    name="StateCountsSchema",
)


class TallySchema(Schema):
    """Counts and rates of a set of invitations."""

    total = fields.Integer(required=True)
    by_state = fields.Nested(StateCountsSchema, required=True)
    acceptance_rate = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "accepted / decided, where decided counts the invitations no "
            "longer pending (accepted, revoked, rejected, expired); null when none is decided"
        },
    )
    median_seconds_to_accept = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "median of accepted_at - created_at; null when none accepted"},
    )


class ClientTallySchema(TallySchema):
    """The invitations to one client (client_id null: Vestibule-hosted registration)."""

    client_id = fields.String(required=True, allow_none=True)


class GroupTallySchema(TallySchema):
    """The invitations into one group (an invitation with several groups counts in each)."""

    group = fields.String(required=True)


class InvitationStatsSchema(TallySchema):
    """All invitations, then per client and per group."""

    by_client = fields.List(fields.Nested(ClientTallySchema), required=True)
    by_group = fields.List(fields.Nested(GroupTallySchema), required=True)


@blp.route("/invitations/stats", methods=["GET"])
@requires("invitations.read")
@blp.response(200, InvitationStatsSchema)
def invitation_stats():
    """Counts by state, acceptance rate and median time to accept, per client and group."""
    result = queries.stats()
    by_client = sorted(result.by_client.items(), key=lambda item: item[0] or "")
    return {
        **result.overall.as_dict(),
        "by_client": [{"client_id": key, **tally.as_dict()} for key, tally in by_client],
        "by_group": [
            {"group": key, **tally.as_dict()} for key, tally in sorted(result.by_group.items())
        ],
    }


# -- one invitation --------------------------------------------------------------------


@blp.route("/invitations/<public_id:invitation_id>", methods=["GET"])
@requires("invitations.read")
@blp.response(200, InvitationSchema)
def get_invitation(invitation_id: str):
    """One invitation by its id."""
    return to_dict(service.find(invitation_id))


class StateChangeSchema(Schema):
    """The body of PATCH /invitations/{id}."""

    state = fields.String(
        required=True,
        validate=validate.OneOf(list(STATE_CHANGES)),
        metadata={"description": "reinitiated: resend (new link); revoked: revoke"},
    )


class ChangedInvitationSchema(InvitationSchema):
    """After PATCH: a resend may carry the new links (see link), a revocation none."""

    link = fields.String(metadata={"description": f"after a resend: {LINK}"})
    short_link = fields.String(metadata={"description": "after a resend: the new short link"})


class ResentInvitationSchema(InvitationSchema):
    """After a resend: the invitation, and its new links where the caller may have them."""

    link = fields.String(metadata={"description": LINK})
    short_link = fields.String(metadata={"description": "the new short link, with link"})


@blp.route("/invitations/<public_id:invitation_id>", methods=["PATCH"])
@requires("invitations.resend")
@blp.arguments(StateChangeSchema, example={"state": "revoked"})
@blp.response(200, ChangedInvitationSchema)
def change_invitation(body: dict, invitation_id: str):
    """Resend (state reinitiated) or revoke (state revoked) an invitation.

    Needs invitations:write; a person also needs a role allowing that action, and a
    client the scope roles:grant when the invitation grants a built-in role.
    """
    action = STATE_CHANGES[body["state"]]
    authorize(action)
    refuse_invitation_beyond_caller(caller(), invitation_id)
    if action == "invitations.revoke":
        return to_dict(service.revoke(invitation_id, actor()))
    return resent_dict(service.resend(invitation_id, actor()))


@blp.route("/invitations/<public_id:invitation_id>/resend", methods=["POST"])
@requires("invitations.resend")
@blp.response(200, ResentInvitationSchema)
def resend_invitation(invitation_id: str):
    """A new link (the old one stops working) and a restarted expiry.

    The answer carries the new link unless the invitation sends its own messages
    (notify) and the caller is not its creator. 403 when the invitation grants roles
    beyond the caller's powers (a client needs roles:grant for the built-in roles).
    """
    refuse_invitation_beyond_caller(caller(), invitation_id)
    return resent_dict(service.resend(invitation_id, actor()))


@blp.route("/invitations/<public_id:invitation_id>/revoke", methods=["POST"])
@requires("invitations.revoke")
@blp.response(200, InvitationSchema)
def revoke_invitation(invitation_id: str):
    """Revoke a pending invitation; its links stop working. 403 when it grants roles
    beyond the caller's powers (a client needs roles:grant for the built-in roles)."""
    refuse_invitation_beyond_caller(caller(), invitation_id)
    return to_dict(service.revoke(invitation_id, actor()))
