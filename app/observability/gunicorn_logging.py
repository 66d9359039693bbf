"""gunicorn's logger with secret URLs redacted from its access and error logs
(``logger_class`` in gunicorn.conf.py). Imported by gunicorn's master before any app
exists, so it needs nothing but gunicorn and ``redact``."""

from __future__ import annotations

import logging

from gunicorn.glogging import Logger

from app.observability.redact import redact


class RedactFilter(logging.Filter):
    """Replaces a record's message by its redacted text (arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingLogger(Logger):
    """gunicorn's Logger whose access and error loggers redact every line they write,
    whatever handlers a log configuration attaches to them."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactFilter) for f in log.filters):
                log.addFilter(RedactFilter())
