"""Readiness: is this instance able to serve? The database answers (and its schema is
the one this code's migrations lead to) and, when rate limits live in Redis, Redis
answers; each check within READYZ_TIMEOUT seconds.

The migration head is read from the scripts once per process, at start-up; a probe
costs a ``SELECT 1``, a read of ``alembic_version`` and, with Redis, a ``PING``.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Flask, current_app
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

#: Seconds a load balancer is asked to wait before probing a failed instance again.
RETRY_AFTER = 5
_EXTENSION = "vestibule_readiness"


@dataclass
class Check:
    """The outcome of one check: whether it passed, whether readiness depends on it,
    and a short reason (never an address, a parameter or a stack trace)."""

    ok: bool
    required: bool = True
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The check as it appears in /readyz's body."""
        body: dict[str, Any] = {"ok": self.ok, **self.details}
        if not self.required:
            body["required"] = False
        if self.reason:
            body["reason"] = self.reason
        return body


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revision(s) of the Alembic scripts in ``directory``."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _database_versions(engine: Engine) -> frozenset[str] | None:
    """Raise when the database does not answer; its Alembic revisions otherwise
    (None without an ``alembic_version`` table)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(rows)
        except Exception:  # noqa: BLE001 - no table (or no permission): not migrated
            return None


class Readiness:
    """The readiness checks of one app; a database probe that hangs keeps at most one
    thread waiting, and later probes fail at once until it returns."""

    def __init__(self, app: Flask):
        self.timeout = float(app.config["READYZ_TIMEOUT"])
        self.require_redis = bool(app.config["READYZ_REQUIRE_REDIS"])
        self.heads = migration_heads(str(app.extensions["migrate"].directory))
        storage = app.config["RATELIMIT_STORAGE_URI"] or ""
        scheme = urlsplit(storage).scheme
        self.redis_url = storage if scheme in ("redis", "rediss", "unix") else None
        self._lock = threading.Lock()
        self._waiting: threading.Thread | None = None
        self._failing: set[str] = set()

    def run(self, engine: Engine) -> dict[str, Check]:
        """Every check, by name."""
        checks = self._database(engine)
        if self.redis_url:
            checks["redis"] = self._redis()
        self._log_changes(checks)
        return checks

    def _database(self, engine: Engine) -> dict[str, Check]:
        outcome = self._probe(engine)
        if isinstance(outcome, str):
            return {
                "database": Check(False, reason=outcome),
                "migrations": Check(False, reason="database unavailable"),
            }
        found = sorted(outcome or ())
        details = {"database": found, "code": sorted(self.heads)}
        if outcome is None:
            migrations = Check(False, reason="not migrated", details=details)
        elif outcome != self.heads:
            migrations = Check(False, reason="database is not at the code's head", details=details)
        else:
            migrations = Check(True, details=details)
        return {"database": Check(True), "migrations": migrations}

    def _probe(self, engine: Engine) -> frozenset[str] | None | str:
        """The database's revisions, or why it did not answer (a short reason)."""
        with self._lock:
            if self._waiting is not None and self._waiting.is_alive():
                return "timeout (an earlier check is still waiting)"
        result: dict[str, Any] = {}

        def probe() -> None:
            try:
                result["versions"] = _database_versions(engine)
            except Exception as exc:  # noqa: BLE001 - any failure: not ready
                result["error"] = type(exc).__name__

        thread = threading.Thread(target=probe, name="readyz-database", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            with self._lock:
                self._waiting = thread
            return "timeout"
        if "error" in result:
            return f"unreachable ({result['error']})"
        return result["versions"]

    def _redis(self) -> Check:
        client = redis.Redis.from_url(
            self.redis_url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout
        )
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            return Check(False, self.require_redis, reason=f"unreachable ({type(exc).__name__})")
        finally:
            client.close()
        return Check(True, self.require_redis)

    def _log_changes(self, checks: dict[str, Check]) -> None:
        """One warning when a check starts failing, one line when it passes again."""
        failing = {name for name, check in checks.items() if not check.ok}
        with self._lock:
            started, ended = failing - self._failing, self._failing - failing
            self._failing = failing
        for name in sorted(started):
            log.warning("readiness: %s failing: %s", name, checks[name].reason)
        for name in sorted(ended):
            log.info("readiness: %s passes again", name)


def readiness() -> Readiness:
    """The current app's readiness checks."""
    return current_app.extensions[_EXTENSION]


def init_health(app: Flask) -> None:
    """Read the migration head and prepare the checks (start-up, not per request)."""
    app.extensions[_EXTENSION] = Readiness(app)
