"""What every benchmark needs: an app on a throw-away database, a machine token for the
admin API, timings, and a small table to print."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine, event, text

from app import create_app
from app.clients.service import create_client
from app.extensions import db
from tests.conftest import private_schema
from tests.helpers import ClientInfo

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
API_SCOPE = "invitations:read invitations:write"


def postgres_url() -> str:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, else a local default."""
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_POSTGRES_URL
    )


@contextmanager
def bench_app(backend: str, **overrides) -> Iterator[Flask]:
    """An app with fresh tables on ``backend`` ("sqlite" file or "postgresql" private
    schema), dropped afterwards. Testing settings (cheap argon2, no rate limits) unless
    ``overrides`` replace some."""
    if backend == "sqlite":
        with (
            tempfile.TemporaryDirectory(prefix="vestibule-bench-") as folder,
            _app(f"sqlite:///{folder}/bench.db", overrides) as app,
        ):
            yield app
        return
    with private_schema(postgres_url(), "vestibule_bench") as url, _app(url, overrides) as app:
        yield app


@contextmanager
def _app(url: str, overrides: dict) -> Iterator[Flask]:
    settings = {"RATELIMIT_ENABLED": False, **overrides}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **settings)
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def machine_headers(app: Flask, scope: str = API_SCOPE) -> dict[str, str]:
    """Authorization headers of a fresh client-credentials token with ``scope``."""
    with app.app_context():
        client, secret = create_client(
            "Bench back office",
            ["https://backoffice.example/cb"],
            grant_types=["client_credentials"],
            scope=scope,
        )
        machine = ClientInfo(client.client_id, secret, "https://backoffice.example/cb")
    response = app.test_client().post(
        "/token", headers=machine.basic_auth(), data={"grant_type": "client_credentials"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"no token for the bench client: {response.get_json()}")
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def has_route(app: Flask, rule: str, method: str) -> bool:
    """Whether ``app`` serves ``method`` on ``rule``."""
    return any(r.rule == rule and method in (r.methods or ()) for r in app.url_map.iter_rules())


def database_version(app: Flask) -> str:
    """The server's own description of itself."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            return "SQLite " + db.session.scalar(text("select sqlite_version()"))
        return "PostgreSQL " + db.session.scalar(text("show server_version"))


def machine_notes() -> str:
    """One line about where the numbers come from."""
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, in-process Flask test client (no sockets)"
    )


def progress(message: str) -> None:
    """A line on stderr while a long run goes on (the tables go to stdout)."""
    print(message, file=sys.stderr, flush=True)


class SqlClock:
    """Seconds spent executing SQL on ``engine`` since the last ``reset``."""

    def __init__(self, engine: Engine):
        self.spent = 0.0
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        """Start counting from zero."""
        self.spent = 0.0

    def _before(self, *args) -> None:
        self._started = time.perf_counter()

    def _after(self, *args) -> None:
        self.spent += time.perf_counter() - self._started


@dataclass
class Latency:
    """Seconds per request of one kind."""

    samples: list[float]

    def percentile(self, p: int) -> float:
        """The ``p``-th percentile in milliseconds."""
        if len(self.samples) == 1:
            return self.samples[0] * 1000
        return statistics.quantiles(self.samples, n=100, method="inclusive")[p - 1] * 1000


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """A plain, aligned table (Markdown-compatible)."""
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}\n")
    for index, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
