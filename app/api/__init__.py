"""The admin JSON API under /api/v1, with its OpenAPI 3 spec at /api/v1/openapi.json
and the spec's interactive page at /api/v1/docs."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from werkzeug.routing import BaseConverter

from app.extensions import csrf
from config import Config

API_PREFIX = "/api/v1"


class ErrorSchema(Schema):
    """Every API error: an OAuth-style code and a human-readable description, plus
    details where they help (the invalid field, the conflicting invitation ...)."""

    class Meta:
        unknown = INCLUDE

    error = fields.String(required=True)
    error_description = fields.String()
    errors = fields.Dict(metadata={"description": "per-location, per-field messages"})
    field = fields.String(metadata={"description": "the invalid field"})
    invitation_id = fields.String(metadata={"description": "the conflicting invitation"})
    state = fields.String(metadata={"description": "the invitation's current state"})
    scope = fields.String(
        metadata={"description": "with insufficient_scope: the scope the request needs"}
    )


class PublicIdConverter(BaseConverter):
    """A public id (a UUID) in a path, kept as text. Only UUID-shaped segments match,
    so ``/invitations/bulk`` and ``/invitations/stats`` are never taken for an id
    (their OPTIONS answers then list only their own methods)."""

    regex = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class AdminApi(Api):
    """flask-smorest's Api with our error body and our app-wide error handler."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        # The app's own handlers (app/errors.py) answer JSON for /api/ and keep
        # Authlib's 401/403 bodies and WWW-Authenticate headers intact.
        return None


def api_settings(config: type[Config] | dict) -> dict:
    """flask-smorest settings derived from ours."""
    return {
        "API_TITLE": "Vestibule admin API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An access token from /token (client credentials, "
                        "or a person's token whose roles allow the action). Each operation "
                        "names the scope it needs. Two scopes no client holds unless "
                        "registered with them add powers: roles:grant to grant, take away "
                        "or act on the built-in roles (admin, secondary_admin, user_invite: "
                        "inviting into them, editing, disabling or recovering their "
                        "holders), and users:verify to mark an address verified that "
                        "Vestibule did not deliver to. Without them such a request is 403 "
                        "insufficient_scope naming the scope.",
                    }
                }
            }
        },
    }


def init_api(app: Flask) -> None:
    """Mount the API blueprints and refuse to start if a route declares no action."""
    app.config.update({k: v for k, v in api_settings(app.config).items() if k not in app.config})
    app.url_map.converters["public_id"] = PublicIdConverter
    api = AdminApi(app)
    api.register_converter(PublicIdConverter, lambda _: {"type": "string", "format": "uuid"})
    from app.api import (
        clients,
        groups,
        invitations,
        outbox,
        users,
        users_factors,  # noqa: F401  (routes on the users blp)
        webhooks,
    )
    from app.api.invitations import create, search, single  # noqa: F401  (routes on its blp)

    modules = (invitations, users, groups, clients, webhooks, outbox)
    for module in modules:
        # Bearer tokens, never cookies, authenticate the API: CSRF does not apply.
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)
    _check_every_route_declares_an_action(app, {module.blp.name for module in modules})
    app.extensions["vestibule.api"] = api
    from app.api import docs

    app.register_blueprint(docs.bp)


def _check_every_route_declares_an_action(app: Flask, api_blueprints: set[str]) -> None:
    """warehouse's rule: an API route without a permission is a bug, caught at start-up."""
    for endpoint, view in app.view_functions.items():
        blueprint = endpoint.split(".", 1)[0]
        if blueprint in api_blueprints and not getattr(view, "required_action", None):
            raise RuntimeError(f"API route {endpoint} declares no required action")


__all__ = ["API_PREFIX", "ErrorSchema", "init_api"]
