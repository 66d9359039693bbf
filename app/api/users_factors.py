"""Admin API: a person's sign-in factors (issue 16), on the users blueprint: which
factors an account has, and resetting them for a person who lost them."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.access import refuse_account_beyond_caller
from app.accounts import factors
from app.accounts import service as accounts
from app.api.auth import actor, caller, requires
from app.api.users import blp
from app.errors import NotFound


class PasskeySchema(Schema):
    """One passkey (never its key)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    synced = fields.Boolean(
        required=True,
        metadata={"description": "synced between devices (amr swk) or kept on one (hwk)"},
    )
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)


class FactorsSchema(Schema):
    """What a person signs in with besides a password."""

    totp = fields.Boolean(
        required=True, metadata={"description": "an authenticator app (TOTP) is set up"}
    )
    recovery_codes_left = fields.Integer(
        required=True, metadata={"description": "unused one-time recovery codes"}
    )
    passkeys = fields.List(fields.Nested(PasskeySchema), required=True)


def _factors_dict(sub: str) -> dict:
    found = factors.factors_of(accounts.find(sub))
    return {
        "totp": found.totp,
        "recovery_codes_left": found.recovery_codes_left,
        "passkeys": [
            {
                "id": passkey.id,
                "name": passkey.name,
                "synced": passkey.backup_eligible,
                "created_at": passkey.created_at,
                "last_used_at": passkey.last_used_at,
            }
            for passkey in found.passkeys
        ],
    }


@blp.route("/users/<sub>/factors", methods=["GET"])
@requires("users.read")
@blp.response(200, FactorsSchema)
def get_factors(sub: str):
    """Which factors an account has: its authenticator app, recovery codes left, passkeys."""
    return _factors_dict(sub)


@blp.route("/users/<sub>/factors/totp", methods=["DELETE"])
@requires("users.write")
@blp.response(204)
def reset_totp(sub: str):
    """Remove the account's authenticator app and recovery codes (user.mfa_removed).

    For a person who lost them: every browser they are signed in with is signed out,
    and at their next sign-in, one who must use a second factor sets one up again. 404
    when there is none; 403 for an account whose roles are beyond
    the caller's powers.
    """
    refuse_account_beyond_caller(caller(), sub)
    if not factors.reset_totp(sub, actor()):
        raise NotFound("this account has no authenticator app")


@blp.route("/users/<sub>/factors/passkeys", methods=["DELETE"])
@requires("users.write")
@blp.response(204)
def reset_passkeys(sub: str):
    """Remove every passkey of the account (user.passkey_removed for each).

    When there was one, every browser the person is signed in with is signed out. An
    account without a password then signs in only through a set-password link
    (POST /users/{sub}/password-link). 403 for an account whose roles are beyond the
    caller's powers.
    """
    refuse_account_beyond_caller(caller(), sub)
    factors.reset_passkeys(sub, actor())
