"""Per request: an id (``g.request_id``, echoed in ``X-Request-Id``), its latency and
status counted, the token endpoint's issues counted by grant type, one log line."""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, current_app, g, request

from app.observability import metrics
from app.observability.logs import log_request

#: An incoming ``X-Request-Id`` is kept when it looks like an id (a proxy's or a
#: client's); anything else (long, spaces, quotes, newlines) is replaced by our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TOKEN_ENDPOINT = "oauth.token"


def new_request_id(incoming: str) -> str:
    """The id of a request: the ``X-Request-Id`` it came with when that looks like an id,
    else a new one."""
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def start_request() -> None:
    """Name the request and start its clock (the first before_request hook)."""
    g.request_id = new_request_id(request.headers.get("X-Request-Id", ""))
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Echo the id, count the request, log it."""
    if "request_id" not in g:  # a hook before ours ended the request early
        start_request()
    response.headers["X-Request-Id"] = g.request_id
    duration = time.perf_counter() - g.request_started
    metrics.record_request(request.endpoint, request.method, response.status_code, duration)
    if request.endpoint == TOKEN_ENDPOINT and response.status_code == 200:
        metrics.record_token_issued(request.form.get("grant_type"))
    if logs_requests(current_app.config):
        log_request(response.status_code, duration)
    return response


def logs_requests(config) -> bool:
    """LOG_REQUESTS, or when unset: with JSON logs only (gunicorn's access log has the
    line in plain deployments)."""
    choice = config["LOG_REQUESTS"]
    return config["LOG_FORMAT"] == "json" if choice is None else bool(choice)


def init_tracking(app: Flask) -> None:
    """Run ``start_request`` before every other hook, ``finish_request`` after them."""
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request_funcs.setdefault(None, []).insert(0, finish_request)
