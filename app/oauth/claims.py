"""Claims about a person, released per scope (OIDC Core §5.4), and ID-token hints."""

from __future__ import annotations

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError

from app.models import Account
from app.oauth import keys

#: ``public_metadata`` (set by the invitation or an administrator) goes with ``profile``;
#: ``groups`` and ``roles`` (what an invitation granted) each have their own scope.
SCOPE_CLAIMS = {
    "profile": ("name", "given_name", "family_name", "updated_at", "public_metadata"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "groups": ("groups",),
    "roles": ("roles",),
}

#: The scopes whose claims introspection answers carry too.
MEMBERSHIP = ("groups", "roles")

#: ``amr`` and ``acr`` say how the person signed in (app/accounts/mfa_policy.py).
CLAIMS_SUPPORTED = [
    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "acr"),
    *(claim for claims in SCOPE_CLAIMS.values() for claim in claims),
]


def user_claims(account: Account, scope: str) -> dict:
    """``sub`` plus the claims the granted scopes release, omitting unknown values."""
    granted = (scope or "").split()
    claims = {"sub": account.sub}
    values = _claim_values(account, granted)
    for name in granted:
        for claim in SCOPE_CLAIMS.get(name, ()):
            if values[claim] is not None:
                claims[claim] = values[claim]
    return claims


def _claim_values(account: Account, granted: list[str]) -> dict:
    # Group and role names are read only when asked for (each is one more query).
    values = {
        "name": account.name,
        "given_name": account.given_name,
        "family_name": account.family_name,
        "updated_at": int(account.updated_at.timestamp()) if account.updated_at else None,
        "public_metadata": account.public_metadata or None,
        "email": account.email,
        "email_verified": account.email_verified if account.email else None,
        "phone_number": account.phone_number,
        "phone_number_verified": account.phone_number_verified if account.phone_number else None,
    }
    if "groups" in granted:
        values["groups"] = sorted(group.name for group in account.groups)
    if "roles" in granted:
        values["roles"] = sorted(role.name for role in account.roles)
    return values


def membership_claims(account: Account, scope: str) -> dict:
    """The ``groups`` and ``roles`` claims a token's scope holds (for introspection,
    whose answer describes the token, not the person: no profile claims there)."""
    claims = user_claims(account, " ".join(s for s in (scope or "").split() if s in MEMBERSHIP))
    claims.pop("sub")
    return claims


def decode_id_token_hint(hint: str) -> dict | None:
    """The claims of an ID token this server signed, or None if it is not one.

    Expiry is deliberately not checked: an RP may pass an expired ID token as a hint
    (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
    """
    try:
        token = jwt.decode(hint, keys.verification_keys(), algorithms=["RS256"])
    except (JoseError, ValueError, TypeError):
        return None
    claims = token.claims
    if claims.get("iss") != current_app.config["ISSUER"] or not isinstance(claims.get("sub"), str):
        return None
    return claims


def audiences(claims: dict) -> list[str]:
    """The ``aud`` claim as a list."""
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else list(aud or [])
