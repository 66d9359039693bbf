"""Admin API: searching invitations a page at a time (``GET /invitations``) and their
statistics (``GET /invitations/stats``)."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from app.api.auth import requires
from app.api.common import Cursor, Text, page_dict, page_schema
from app.api.invitations import blp
from app.api.invitations.schemas import InvitationSchema, to_dict
from app.invitations import queries, states
from app.pagination import decode_cursor


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
    cursor = Cursor(metadata={"description": "next_cursor from the previous page (same sort)"})


InvitationPageSchema = page_schema(InvitationSchema, "InvitationPage")


@blp.route("/invitations", methods=["GET"])
@requires("invitations.read")
@blp.arguments(InvitationSearchSchema, location="query")
@blp.response(200, InvitationPageSchema)
def list_invitations(args: dict):
    """Search invitations, a page at a time (pass next_cursor back as cursor)."""
    listed_as = queries.listed_as(args["sort"])
    after = decode_cursor(listed_as, args.pop("cursor", None))
    return page_dict(queries.search(queries.Search(**args, after=after)), to_dict, listed_as)


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
