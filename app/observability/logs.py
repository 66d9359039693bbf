"""Vestibule's log lines: plain text (default) or one JSON object per line
(``LOG_FORMAT=json``), each carrying the request id, method and endpoint of the
request it was written in, and passed through ``redact`` (no secret URL in a log).

Every logger of the app (``app`` and its children ``app.*``) writes through one
handler installed here in place of Flask's default one.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream

from app.observability.redact import RedactFilter, redact, redact_records_of

LOG_FORMATS = ("plain", "json")
#: Attributes every record gets from the request it was written in (None outside one).
REQUEST_FIELDS = ("request_id", "method", "endpoint")
#: Attributes ``log_request`` adds, written as JSON fields too.
RESPONSE_FIELDS = ("status", "path", "duration_ms")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

requests_log = logging.getLogger("app.requests")


class RequestContext(logging.Filter):
    """Adds the current request's id, method and endpoint to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        inside = has_request_context()
        values = {
            "request_id": g.get("request_id") if inside else None,
            "method": request.method if inside else None,
            "endpoint": request.endpoint if inside else None,
        }
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    """``time level logger [request id] message``, redacted."""

    def __init__(self):
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request's fields
    and, for an exception, its traceback; every string redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in (*REQUEST_FIELDS, *RESPONSE_FIELDS):
            value = getattr(record, name, None)
            entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def log_request(status: int, duration: float) -> None:
    """One INFO line for the answered request: method, redacted path, status, time."""
    path = redact(request.path)
    milliseconds = round(duration * 1000, 1)
    requests_log.info(
        "%s %s %s %.1fms",
        request.method,
        path,
        status,
        milliseconds,
        extra={"status": status, "path": path, "duration_ms": milliseconds},
    )


def init_logging(app: Flask) -> None:
    """Replace Flask's handler on the ``app`` logger with ours, in the configured format
    (the last app created in a process decides: loggers are global)."""
    choice = app.config["LOG_FORMAT"]
    if choice not in LOG_FORMATS:
        from config import ConfigurationError

        raise ConfigurationError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[arg-type]
    handler.vestibule = True  # type: ignore[attr-defined]
    handler.addFilter(RequestContext())
    handler.addFilter(RedactFilter())  # also for handlers the record reaches after ours
    handler.setFormatter(JsonFormatter() if choice == "json" else PlainFormatter())
    logger = logging.getLogger("app")
    for old in list(logger.handlers):
        if old is default_handler or getattr(old, "vestibule", False):
            logger.removeHandler(old)
    logger.addHandler(handler)
    redact_records_of(logging.getLogger("werkzeug"))  # the development server's lines
