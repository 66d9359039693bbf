"""gunicorn's own refusals in JSON, like Vestibule's: a request line over
``limit_request_line`` (414), too many or too large headers (431), a garbled request
(400) never reach the app, and gunicorn would answer them with an HTML page, which an
API client cannot read. Installed in each worker by gunicorn.conf.py."""

from __future__ import annotations

import json

from gunicorn import util

#: Status -> the ``error`` code (the app's own codes where it has them, app/errors.py).
ERROR_CODES = {
    400: "invalid_request",
    403: "access_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a JSON body. ``mesg`` is not echoed: it
    may quote the request line (a secret URL among it)."""
    body = json.dumps(
        {"error": ERROR_CODES.get(status_int, "invalid_request"), "error_description": reason}
    )
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin-1"))


def use_json_errors() -> None:
    """Make this gunicorn process answer its own refusals with ``write_json_error``."""
    util.write_error = write_json_error
