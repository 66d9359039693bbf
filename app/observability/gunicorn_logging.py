"""gunicorn's logger with secret URLs redacted from its access and error logs
(``logger_class`` in gunicorn.conf.py). Imported by gunicorn's master before any app
exists, so it needs nothing but gunicorn and ``redact``."""

from __future__ import annotations

from gunicorn.glogging import Logger

from app.observability.redact import redact_records_of


class RedactingLogger(Logger):
    """gunicorn's Logger whose access and error loggers redact every line they write,
    whatever handlers a log configuration attaches to them."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        redact_records_of(self.error_log)
        redact_records_of(self.access_log)
