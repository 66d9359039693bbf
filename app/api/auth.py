"""Who may call the admin API (spec §3.6): every route declares the action it
performs; the action names the OAuth scope a token must carry, and a person's token
must also belong to a role allowed that action."""

from __future__ import annotations

import inspect
from functools import wraps

from flask import g, request
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest

from app.errors import DomainError
from app.oauth.server import bearer_token

#: The error body's schema in the OpenAPI document (app/api/__init__.py ErrorSchema).
ERROR_REF = {"$ref": "#/components/schemas/Error"}

#: action -> the scope a token needs for it.
ACTION_SCOPES: dict[str, str] = {
    "invitations.read": "invitations:read",
    "invitations.create": "invitations:write",
    "invitations.resend": "invitations:write",
    "invitations.revoke": "invitations:write",
    "users.read": "users:read",
    "users.write": "users:write",
    "clients.read": "clients:read",
    "clients.write": "clients:write",
    "webhooks.read": "webhooks:read",
    "webhooks.write": "webhooks:write",
    "outbox.read": "outbox:read",
    "outbox.write": "outbox:write",
}

#: Scopes no route requires by itself: what a machine needs on top of a route's scope
#: to grant, take away or act on the built-in roles, or to mark an address verified that
#: Vestibule did not deliver to. A client holds them only when registered with them.
GRANT_ROLES_SCOPE = "roles:grant"
VOUCH_SCOPE = "users:verify"

#: role -> actions a person holding it may perform through the API.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTION_SCOPES),
    # Integrations (clients, webhooks) are for admins only.
    "secondary_admin": frozenset(
        a for a in ACTION_SCOPES if not a.startswith(("clients.", "webhooks."))
    ),
    "user_invite": frozenset({"invitations.read", "invitations.create", "invitations.resend"}),
}


class Forbidden(DomainError):
    """The token is valid but its holder may not do this."""

    status = 403
    code = "insufficient_role"


class MissingScope(Forbidden):
    """A machine's token lacks a scope this request needs beyond the route's own
    (RFC 6750's ``insufficient_scope``; the body names the scope)."""

    code = "insufficient_scope"

    def __init__(self, scope: str, what: str):
        super().__init__(f"{what} needs the scope {scope}", scope=scope)


def person_may(role_names: set[str], action: str) -> bool:
    """Whether any of these roles allows ``action``."""
    return any(action in ROLE_ACTIONS.get(role, ()) for role in role_names)


def authorize(action: str) -> None:
    """Refuse the current API call unless its bearer token may perform ``action``.

    ``requires`` calls it before the view; a view whose action depends on its body
    (PATCH of an invitation's state) calls it again for that action.
    """
    token = bearer_token(ACTION_SCOPES[action])
    if token.account is None:
        g.api_actor = f"client:{token.client.client_id}"
        g.api_scopes = frozenset(token.scope.split())
    else:
        if not person_may({role.name for role in token.account.roles}, action):
            raise Forbidden(f"your roles do not allow {action}")
        g.api_actor = f"account:{token.account.sub}"


def requires(action: str):
    """Protect an API view: bearer token with the action's scope, and a role for people."""
    scope = ACTION_SCOPES[action]

    def decorator(view):
        needs_body = _declares_json_body(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            authorize(action)
            if needs_body and not request.get_data(cache=True):
                # The spec marks the body required; webargs would read "nothing" as {}.
                raise BadRequest("This operation needs a JSON body.")
            return view(*args, **kwargs)

        wrapped.required_action = action
        documented = Blueprint.doc(security=[{"bearerAuth": [scope]}])(wrapped)
        return Blueprint.doc(responses=_error_responses(view, action, needs_body))(documented)

    return decorator


def _error_responses(view, action: str, needs_body: bool) -> dict:
    """The refusals every protected operation may answer, for the OpenAPI spec (those
    a view documents itself, with its own words, are left to it)."""
    own = {
        str(code) for code in getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
    }
    in_path = [p for p in inspect.signature(view).parameters if p not in ("body", "args")]
    reasons = {
        "401": "No valid access token (RFC 6750 challenge in WWW-Authenticate).",
        "403": "The token lacks the scope, or its holder the role or the powers, "
        "this operation needs.",
    }
    if needs_body or in_path:
        reasons["400"] = (
            "The request breaks a rule the schema cannot express (an unknown group or "
            "role, a missing body, a value out of range) or a domain rule."
        )
    if in_path:
        reasons["404"] = "Nothing with that id, or nothing the caller may see."
    if not action.endswith(".read"):
        reasons["409"] = "It conflicts with the current state (a duplicate, a finished invitation)."
    return {
        code: {"description": text, "content": {"application/json": {"schema": ERROR_REF}}}
        for code, text in reasons.items()
        if code not in own
    }


def _declares_json_body(view) -> bool:
    """Whether flask-smorest documents a required JSON body for ``view``."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" and p.get("required") for p in parameters)


def actor() -> str:
    """The label of whoever made the current API call (for events and ``invited_by``)."""
    return g.api_actor


def machine_holds(scope: str) -> bool:
    """Whether the current API caller is a machine whose token carries ``scope``."""
    return scope in g.get("api_scopes", frozenset())
