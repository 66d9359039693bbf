"""The shapes of an invitation in the admin API: the body that creates one, the
invitation as the API shows it, and with its links right after it is issued."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.common import JsonObject, NameList, StrictBoolean, Text
from app.invitations import service, states
from app.invitations.issued import Issued
from app.invitations.validation import InvitationInput
from app.models import Invitation

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

EXISTING_ACCOUNT = (
    '"join": the email belongs to an account, and the invitation is for that account. '
    "Its link leads to sign-in instead of registration, and accepting it gives the account "
    "the invitation's groups, roles, custom_fields and public_metadata (never its password "
    "or profile). Needs an email; 400 when no account has it, 409 when that account is "
    "disabled. Left out (null on an invitation), an address that belongs to an account is "
    "refused with 409, which names the account (sub) to callers allowed to read users"
)


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
    existing_account = fields.String(
        allow_none=True,
        validate=validate.OneOf(["join"]),
        metadata={"description": EXISTING_ACCOUNT},
    )
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
    existing_account = fields.String(
        allow_none=True,
        validate=validate.OneOf(["join"]),
        metadata={"description": EXISTING_ACCOUNT},
    )
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


def invitation_input(body: dict) -> InvitationInput:
    """The service's input from a loaded InvitationCreate body."""
    values = dict(body)
    values["existing_account"] = values.get("existing_account") == "join"
    return InvitationInput(**values)


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
        "existing_account": "join" if invitation.existing_account else None,
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
