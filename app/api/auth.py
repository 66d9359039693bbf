"""Who may call the admin API (spec §3.6): every route declares the action it
performs; the action names the OAuth scope a token must carry, and a person's token
must also belong to a role allowed that action (the role rules live in app/access.py)."""

from __future__ import annotations

import inspect
from functools import wraps

from flask import g, request
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest

from app.access import ACTIONS, Caller, Forbidden, person_may
from app.oauth.server import bearer_token

#: The error body's schema in the OpenAPI document (app/api/__init__.py ErrorSchema).
ERROR_REF = {"$ref": "#/components/schemas/Error"}

#: action -> the scope a token needs for it: a resource's ``read`` scope to read it,
#: its ``write`` scope for anything else.
ACTION_SCOPES: dict[str, str] = {
    action: f"{action.partition('.')[0]}:{'read' if action.endswith('.read') else 'write'}"
    for action in ACTIONS
}


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


def caller() -> Caller:
    """Whoever made the current API call, as the access rules take it."""
    return Caller(g.api_actor, g.get("api_scopes", frozenset()))
