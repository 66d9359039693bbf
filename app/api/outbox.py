"""Admin API: the outbox of messages and webhook deliveries (spec §5, §6).

Operators see what is pending, sent or dead, with every attempt and the request that
caused it, and send a dead item again, or, after an outage, every item that went dead
since a given time. Payloads are never shown: they may hold invitation links.
"""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from app.api import ErrorSchema
from app.api.auth import actor, requires
from app.api.common import PageQuerySchema, Text, page_dict, page_schema
from app.models import OutboxItem
from app.outbox import queue, recovery
from app.pagination import decode_cursor

blp = Blueprint("outbox_api", __name__, description="Pending, sent and dead deliveries")


class AttemptSchema(Schema):
    """One delivery attempt."""

    number = fields.Integer(required=True)
    started_at = fields.DateTime(required=True)
    latency_ms = fields.Integer(required=True)
    ok = fields.Boolean(required=True)
    status_code = fields.Integer(
        required=True, allow_none=True, metadata={"description": "HTTP status or SMTP reply"}
    )
    response_excerpt = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    worker = fields.String(required=True, allow_none=True)
    request_id = fields.String(
        required=True, allow_none=True, metadata={"description": "the request that queued it"}
    )


class OutboxItemSchema(Schema):
    """An outbox item, without its payload."""

    id = fields.String(
        required=True, metadata={"description": "stable id (Message-ID, webhook-id)"}
    )
    kind = fields.String(required=True, metadata={"enum": list(queue.KINDS)})
    topic = fields.String(required=True, metadata={"description": "template key or event type"})
    recipient = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": list(queue.STATES)})
    attempts = fields.Integer(required=True)
    max_attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(required=True)
    last_error = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(required=True, allow_none=True)
    dead_at = fields.DateTime(required=True, allow_none=True)


class OutboxItemDetailSchema(OutboxItemSchema):
    """An outbox item with the request that queued it and its attempt log."""

    request_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "id of the request that queued it (null outside a request)"},
    )
    attempt_log = fields.List(fields.Nested(AttemptSchema), required=True)


class BulkRetrySchema(Schema):
    """Which dead items to deliver again."""

    state = fields.String(required=True, validate=validate.OneOf(recovery.RETRYABLE))
    since = Text(
        required=True,
        validate=validate.Length(max=64),
        metadata={
            "description": "items that went dead since then: an ISO 8601 time (UTC unless "
            "it names a zone) or a duration back from now such as 90m, 36h, 7d, 2w",
            "example": "24h",
        },
    )
    kind = fields.String(validate=validate.OneOf(queue.KINDS))
    endpoint = Text(
        validate=validate.Length(max=64),
        metadata={"description": "only deliveries to this webhook endpoint (its id)"},
    )


class BulkRetryResultSchema(Schema):
    """How many dead items are pending again."""

    requeued = fields.Integer(required=True)


class OutboxQuerySchema(PageQuerySchema):
    """Filters and page of GET /outbox."""

    state = fields.String(validate=validate.OneOf(queue.STATES))
    kind = fields.String(validate=validate.OneOf(queue.KINDS))


class OutboxPageSchema(page_schema(OutboxItemSchema, "OutboxItemPage")):
    """One page of outbox items, newest first, and the counts per state."""

    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"example": {}}
    )


def to_dict(item: OutboxItem, with_attempts: bool = False) -> dict:
    """The API view of an item."""
    body = {
        "id": item.public_id,
        "kind": item.kind,
        "topic": item.topic,
        "recipient": item.recipient,
        "state": item.state,
        "attempts": item.attempts,
        "max_attempts": item.max_attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_error": item.last_error,
        "created_at": item.created_at,
        "sent_at": item.sent_at,
        "dead_at": item.dead_at,
    }
    if with_attempts:
        body["attempt_log"] = [
            {
                "number": a.number,
                "started_at": a.started_at,
                "latency_ms": a.latency_ms,
                "ok": a.ok,
                "status_code": a.status_code,
                "response_excerpt": a.response_excerpt,
                "error": a.error,
                "worker": a.worker,
                "request_id": a.request_id,
            }
            for a in item.attempt_log
        ]
        body["request_id"] = item.request_id
    return body


@blp.route("/outbox", methods=["GET"])
@requires("outbox.read")
@blp.arguments(OutboxQuerySchema, location="query", unknown=RAISE)
@blp.response(200, OutboxPageSchema)
def list_outbox(args: dict):
    """Items newest first, filtered by state and kind; counts per state."""
    after = decode_cursor("outbox", args.get("cursor"))
    page = queue.listing(args.get("state"), args.get("kind"), after, args["limit"])
    return {**page_dict(page, to_dict, "outbox"), "counts": queue.counts()}


@blp.route("/outbox/retry", methods=["POST"])
@requires("outbox.write")
@blp.arguments(BulkRetrySchema, unknown=RAISE)
@blp.response(200, BulkRetryResultSchema)
@blp.alt_response(
    400, schema=ErrorSchema, description="A filter that cannot be used (since, endpoint)"
)
@blp.alt_response(409, schema=ErrorSchema, description="The endpoint is disabled")
def retry_dead_items(body: dict):
    """After an outage: every item that went dead since a time (of a kind, to an
    endpoint) is pending again, its attempts back to zero."""
    chosen = recovery.retry_filter(**body)
    return {"requeued": recovery.retry_dead(chosen, actor())}


@blp.route("/outbox/<item_id>", methods=["GET"])
@requires("outbox.read")
@blp.response(200, OutboxItemDetailSchema)
def get_outbox_item(item_id: str):
    """One item with every delivery attempt."""
    return to_dict(queue.find(item_id), with_attempts=True)


@blp.route("/outbox/<item_id>/retry", methods=["POST"])
@requires("outbox.write")
@blp.response(200, OutboxItemSchema)
def retry_outbox_item(item_id: str):
    """Send a dead item again (or a sent one once more); 409 while it is pending."""
    return to_dict(queue.requeue(item_id))
