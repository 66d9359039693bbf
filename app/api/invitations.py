"""Admin API: invitations (spec §3.3)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.auth import actor, requires
from app.invitations import service
from app.models import Invitation

blp = Blueprint(
    "invitations_api", __name__, description="Invite people and follow their invitations."
)


class InvitationCreateSchema(Schema):
    """The body of POST /invitations (spec §3.1)."""

    email = fields.String(validate=validate.Length(max=320))
    mobile_number = fields.String(
        validate=validate.Length(max=32), metadata={"description": "E.164, e.g. +4915112345678"}
    )
    given_name = fields.String(validate=validate.Length(max=128))
    family_name = fields.String(validate=validate.Length(max=128))
    groups = fields.List(
        fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=50)
    )
    roles = fields.List(
        fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=50)
    )
    client_id = fields.String(validate=validate.Length(max=64))
    redirect_url = fields.String(validate=validate.Length(max=2048))
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=64)))
    public_metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=64)))
    allow_same_email = fields.Boolean()
    template_key = fields.String(validate=validate.Length(max=64))
    lang = fields.String(validate=validate.Length(max=16))
    notify = fields.Boolean()
    expires_in = fields.Integer(strict=True, metadata={"description": "seconds"})


class InvitationSchema(Schema):
    """An invitation as the API shows it (never its secret token)."""

    id = fields.String(required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(
            sorted(["initiated", "reinitiated", "accepted", "revoked", "rejected", "expired"])
        ),
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
    allow_same_email = fields.Boolean()
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


def issued_dict(issued: service.Issued) -> dict:
    """The API view right after create or resend, links included."""
    return {**to_dict(issued.invitation), "link": issued.link, "short_link": issued.short_link}


def accept_languages() -> list[str]:
    """Language tags of the caller's Accept-Language header, best first."""
    return [tag.split("-")[0].lower() for tag, _ in request.accept_languages]


@blp.route("/invitations", methods=["POST"])
@requires("invitations.create")
@blp.arguments(InvitationCreateSchema)
@blp.response(201, IssuedInvitationSchema)
def create_invitation(body: dict):
    """Create an invitation; the response carries its link, shown only this once."""
    issued = service.create(service.InvitationInput(**body), actor(), accept_languages())
    return issued_dict(issued)


@blp.route("/invitations/<invitation_id>", methods=["GET"])
@requires("invitations.read")
@blp.response(200, InvitationSchema)
def get_invitation(invitation_id: str):
    """One invitation by its id."""
    return to_dict(service.find(invitation_id))
