"""Admin API: webhook endpoints and their deliveries (spec §6). A signing secret is
shown once, on create and on rotation."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from app.api.auth import actor, requires
from app.api.common import PageQuerySchema, StrictBoolean, Text, page_dict, page_schema
from app.api.outbox import OutboxItemDetailSchema
from app.api.outbox import to_dict as outbox_item_dict
from app.events import WEBHOOK_EVENT_TYPES
from app.models import OutboxItem, WebhookEndpoint
from app.outbox.queue import STATES
from app.pagination import decode_cursor
from app.webhooks import checks, service

blp = Blueprint("webhooks_api", __name__, description="Webhook endpoints and deliveries")

_URL = {
    "validate": validate.Length(min=1, max=checks.URL_LENGTH),
    "metadata": {"description": "http:// or https:// with a host; no credentials, no fragment"},
}
_EVENT_TYPES = {
    "validate": validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    "metadata": {
        "description": "the event types delivered to this endpoint: "
        + ", ".join(WEBHOOK_EVENT_TYPES)
    },
}
_DESCRIPTION = {"validate": validate.Length(max=checks.DESCRIPTION_LENGTH), "allow_none": True}
CREATE_EXAMPLE = {
    "url": "https://hr.example/hooks/vestibule",
    "event_types": ["invitation.created", "invitation.accepted"],
    "description": "HR onboarding",
}


def _event_type(**kwargs) -> Text:
    """One event type; an unknown one is a 400 naming it (the service checks)."""
    return Text(metadata={"enum": list(WEBHOOK_EVENT_TYPES)}, **kwargs)


class WebhookSchema(Schema):
    """An endpoint as the API shows it (never its secret)."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    description = fields.String(required=True, allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True, allow_none=True)


class IssuedWebhookSchema(WebhookSchema):
    """An endpoint right after create or rotation: the only time its secret is shown."""

    secret = fields.String(
        required=True,
        metadata={"description": "whsec_ and base64: verify webhook-signature with it"},
    )


WebhookPageSchema = page_schema(WebhookSchema, "WebhookPage")


class WebhookCreateSchema(Schema):
    """The body of POST /webhooks."""

    url = Text(required=True, **_URL)
    event_types = fields.List(_event_type(), required=True, **_EVENT_TYPES)
    description = Text(**_DESCRIPTION)


class WebhookUpdateSchema(Schema):
    """The body of PATCH /webhooks/{webhook_id}: fields given replace the stored ones."""

    url = Text(**_URL)
    event_types = fields.List(_event_type(), **_EVENT_TYPES)
    enabled = StrictBoolean(metadata={"description": "false: nothing is queued or delivered"})
    description = Text(**_DESCRIPTION)


class WebhookDeliverySchema(OutboxItemDetailSchema):
    """One event queued for an endpoint, and every attempt to deliver it."""

    webhook_id = fields.String(
        required=True, metadata={"description": "the webhook-id header, the same on each try"}
    )


WebhookDeliveryPageSchema = page_schema(WebhookDeliverySchema, "WebhookDeliveryPage")


class WebhookDeliveryQuerySchema(PageQuerySchema):
    """GET /webhooks/{webhook_id}/deliveries: newest first, optionally in one state."""

    state = fields.String(validate=validate.OneOf(STATES))


def to_dict(endpoint: WebhookEndpoint) -> dict:
    """The API view of an endpoint."""
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "created_by": endpoint.created_by,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def issued_dict(issued: service.Issued) -> dict:
    """An endpoint with its secret in clear (create and rotation only)."""
    return {**to_dict(issued.endpoint), "secret": issued.secret}


def delivery_dict(item: OutboxItem) -> dict:
    """The API view of a delivery: the outbox item with its attempts and webhook-id."""
    return {**outbox_item_dict(item, with_attempts=True), "webhook_id": service.message_id(item)}


@blp.route("/webhooks", methods=["GET"])
@requires("webhooks.read")
@blp.arguments(PageQuerySchema, location="query", unknown=RAISE)
@blp.response(200, WebhookPageSchema)
def list_webhooks(args: dict):
    """Every endpoint, oldest first, one page at a time."""
    after = decode_cursor("webhooks", args.get("cursor"))
    return page_dict(service.page_of_endpoints(after, args["limit"]), to_dict, "webhooks")


@blp.route("/webhooks", methods=["POST"])
@requires("webhooks.write")
@blp.arguments(WebhookCreateSchema, example=CREATE_EXAMPLE)
@blp.response(201, IssuedWebhookSchema)
def create_webhook(body: dict):
    """Register an endpoint; the answer carries its signing secret, shown only this once.

    An unknown event type is a 400 naming it.
    """
    issued = service.create(body["url"], body["event_types"], actor(), body.get("description"))
    return issued_dict(issued)


@blp.route("/webhooks/<webhook_id>", methods=["GET"])
@requires("webhooks.read")
@blp.response(200, WebhookSchema)
def get_webhook(webhook_id: str):
    """One endpoint by its id."""
    return to_dict(service.find(webhook_id))


@blp.route("/webhooks/<webhook_id>", methods=["PATCH"])
@requires("webhooks.write")
@blp.arguments(WebhookUpdateSchema, example={"enabled": False})
@blp.response(200, WebhookSchema)
def update_webhook(body: dict, webhook_id: str):
    """Change an endpoint's URL, event types or description, or disable or enable it."""
    return to_dict(service.update(webhook_id, body, actor()))


@blp.route("/webhooks/<webhook_id>", methods=["DELETE"])
@requires("webhooks.write")
@blp.response(204)
def delete_webhook(webhook_id: str):
    """Delete an endpoint, its queued deliveries and their attempt log."""
    service.remove(webhook_id, actor())


@blp.route("/webhooks/<webhook_id>/rotate-secret", methods=["POST"])
@requires("webhooks.write")
@blp.response(200, IssuedWebhookSchema)
def rotate_webhook_secret(webhook_id: str):
    """Replace the signing secret; the new one is shown only this once."""
    return issued_dict(service.rotate_secret(webhook_id, actor()))


@blp.route("/webhooks/<webhook_id>/deliveries", methods=["GET"])
@requires("webhooks.read")
@blp.arguments(WebhookDeliveryQuerySchema, location="query", unknown=RAISE)
@blp.response(200, WebhookDeliveryPageSchema)
def list_webhook_deliveries(args: dict, webhook_id: str):
    """The endpoint's deliveries, newest first, each with its attempt log."""
    page = service.deliveries(
        webhook_id,
        state=args.get("state"),
        after=decode_cursor("webhook deliveries", args.get("cursor")),
        limit=args["limit"],
    )
    return page_dict(page, delivery_dict, "webhook deliveries")


@blp.route("/webhooks/deliveries/<delivery_id>/replay", methods=["POST"])
@requires("webhooks.write")
@blp.response(200, WebhookDeliverySchema)
def replay_webhook_delivery(delivery_id: str):
    """Deliver a dead or sent delivery again, from now, with the same webhook-id.

    409 while it is still pending, or when its endpoint is disabled.
    """
    return delivery_dict(service.replay(delivery_id))
