"""Admin API: a single invitation: read it, resend it (a new link, the old one stops
working) or revoke it, by ``PATCH /invitations/{id}`` or the ``/resend`` and
``/revoke`` actions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.access import refuse_invitation_beyond_caller
from app.api.auth import actor, authorize, caller, requires
from app.api.invitations import blp
from app.api.invitations.schemas import InvitationSchema, issued_dict, to_dict
from app.invitations import service
from app.invitations.issued import Issued

#: PATCH /invitations/{id}: requested state -> the action (and so the role) it needs.
STATE_CHANGES = {"reinitiated": "invitations.resend", "revoked": "invitations.revoke"}

LINK = (
    "the new landing URL; left out when the invitation sends its own messages (notify) "
    "and the caller is not its creator"
)


def resent_dict(issued: Issued) -> dict:
    """The API view right after a resend: the links only for a caller they may go to."""
    if service.shows_link_to(issued.invitation, actor()):
        return issued_dict(issued)
    return to_dict(issued.invitation)


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
