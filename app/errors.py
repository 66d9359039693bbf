"""HTTP errors rendered at the edge: HTML for pages, JSON for API and protocol endpoints."""

from __future__ import annotations

import time
from contextlib import suppress

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

#: Paths whose clients are programs, answered in JSON.
JSON_PREFIXES = ("/token", "/userinfo", "/revoke", "/introspect", "/api/", "/.well-known", "/jwks")


class DomainError(Exception):
    """A refusal the domain explains: mapped to JSON for programs, HTML for pages.

    Subclasses set ``status`` and ``code``; ``extra`` adds fields to the JSON body
    (for instance the id of the invitation a 409 conflicts with).
    """

    status = 400
    code = "invalid_request"

    def __init__(self, description: str, **extra):
        super().__init__(description)
        self.description = description
        self.extra = extra


class NotFound(DomainError):
    """The named thing does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (duplicate, wrong state)."""

    status = 409
    code = "conflict"


def wants_json() -> bool:
    """Whether the current request came from a program rather than a browser page
    (a program endpoint, or a JSON body such as a custom UI's registration)."""
    return request.path.startswith(JSON_PREFIXES) or request.is_json


def _error_code(exc: HTTPException) -> str:
    return {
        400: "invalid_request",
        401: "invalid_token",
        403: "access_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
        415: "unsupported_media_type",
        422: "invalid_request",
        429: "too_many_requests",
    }.get(exc.code or 500, "server_error")


def error_page(error: str, description: str | None, status: int = 400, problem: str | None = None):
    """The HTML error page (never a redirect): what happened in the page's language.

    ``problem`` names what is wrong with an authorization request that cannot go on
    (the page words it: templates/oauth/error.html); its error code and description
    are then shown as they are, for the application's developers. Otherwise the page
    explains itself by status, or by ``description`` (a refusal we word, translated).
    """
    from app.web.refusals import refusal_text

    shown = refusal_text(description) if description and problem is None else None
    html = render_template(
        "oauth/error.html",
        error=error,
        description=shown,
        technical=description if problem else None,
        problem=problem,
        status=status,
        from_application=(request.endpoint or "").startswith("oauth."),
    )
    return html, status


def handle_http_error(exc: HTTPException):
    """Any werkzeug HTTP error, without a stack trace."""
    if exc.response is not None:
        return exc.response
    if type(exc).__module__.startswith("authlib."):
        # Authlib's 401/403 carry their own JSON body and WWW-Authenticate header.
        return exc
    if isinstance(exc, CSRFError):
        description = "The form expired or was not sent from this site; please try again."
    else:
        description = exc.description
    code = exc.code or 500
    if not wants_json() and (description == type(exc).description or code == 429):
        # werkzeug's generic English, or the breached limit ("5 per 1 minute"): the
        # page explains itself by status, in the page's language.
        description = None
    if wants_json():
        body = {"error": _error_code(exc), "error_description": description}
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if messages:  # webargs/marshmallow validation details
            body["error_description"] = "The request body or query is invalid."
            body["errors"] = messages
        # Keep what the exception says beyond its body, e.g. a 405's Allow (RFC 9110).
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return jsonify(body), code, {**headers, **_retry_after(code)}
    html, status = error_page(_error_code(exc), description, code)
    return html, status, _retry_after(code)


def _retry_after(status: int) -> dict[str, str]:
    """RFC 6585: a 429 says when to come back (the breached limit's window end)."""
    if status != 429:
        return {}
    from app.extensions import limiter

    current = limiter.current_limit
    seconds = int(current.reset_at - time.time()) if current is not None else 60
    return {"Retry-After": str(max(1, seconds))}


def handle_domain_error(exc: DomainError):
    """A typed domain refusal, with its status and a safe description."""
    if wants_json():
        body = {"error": exc.code, "error_description": exc.description, **exc.extra}
        return jsonify(body), exc.status
    return error_page(exc.code, exc.description, exc.status)


def handle_recursion(exc: RecursionError):
    """A JSON body nested deeper than the parser's recursion allows (``[[[[...``) is the
    caller's mistake, not ours: 400. Any other RecursionError is a bug."""
    if request.is_json:
        return handle_http_error(BadRequest("The JSON body is nested too deeply."))
    return handle_unexpected(exc)


#: Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_UNAVAILABLE = 5


def handle_database_unavailable(exc: SQLAlchemyError):
    """The database cannot be reached (restarting, network cut): 503 with Retry-After,
    and one log line without SQL or parameters (they hold emails and token hashes).
    The request's transaction is rolled back, so nothing is half-written."""
    from app.extensions import db

    with suppress(SQLAlchemyError):
        db.session.rollback()
    cause = getattr(exc, "orig", None) or exc
    current_app.logger.error(
        "database unavailable: %s %s (%s: %s)",
        request.method,
        request.endpoint or request.path,
        type(cause).__name__,
        str(cause).splitlines()[0][:200] if str(cause) else "",
    )
    headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
    if wants_json():
        description = "The service is briefly unavailable; retry later."
        body = {"error": "temporarily_unavailable", "error_description": description}
        return jsonify(body), 503, headers
    html = render_template("web/unavailable.html")
    return html, 503, headers


def handle_unexpected(exc: Exception):
    """A bug: log it, answer 500 without details."""
    current_app.logger.exception("unhandled error")
    return handle_http_error(InternalServerError("Something went wrong on our side."))


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers to ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(RecursionError, handle_recursion)
    for unavailable in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.register_error_handler(unavailable, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
