"""gunicorn's logger with secret URLs redacted from its access and error logs
(``logger_class`` in gunicorn.conf.py). Imported by gunicorn's master before any app
exists, so it needs nothing but gunicorn and ``redact``."""

from __future__ import annotations

from gunicorn.glogging import Logger

from app.observability.redact import redact, redact_query, redact_records_of


class RedactingLogger(Logger):
    """gunicorn's Logger whose access and error loggers redact every line they write,
    whatever handlers a log configuration attaches to them; in access lines, query
    values other than protocol settings are left out too (``login_hint`` is an email
    address, a search may be one)."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path, _, query = environ.get("RAW_URI", "").partition("?")
        target = redact(path) + ("?" + redact_query(query) if query else "")
        atoms["r"] = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
        atoms["q"] = redact_query(environ.get("QUERY_STRING", ""))
        return atoms

    def setup(self, cfg) -> None:
        super().setup(cfg)
        redact_records_of(self.error_log)
        redact_records_of(self.access_log)
