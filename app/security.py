"""Response headers every page carries: anti-framing, no referrer, a strict CSP."""

from __future__ import annotations

from flask import Flask, Response, g


def _csp() -> str:
    # form-action must also allow the client's origin: browsers apply it to the
    # redirect that follows the sign-in or consent form.
    form_action = " ".join(["'self'", *g.get("form_action_origins", [])])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def set_security_headers(response: Response) -> Response:
    """Add the headers to one response."""
    response.headers.setdefault("Content-Security-Policy", _csp())
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    """Register the header hook on ``app``."""
    app.after_request(set_security_headers)
