"""(e) Endpoints over HTTP, served like production: gunicorn with 2 sync workers,
``VESTIBULE_ENV=production``, production argon2; per endpoint, the rate (wall time,
client on the same machine) and the server's CPU milliseconds per request, against bare
Flask answering JSON under the same gunicorn settings."""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import wrk
from bench.endpoints import (
    BARE,
    ENDPOINTS,
    Browser,
    Endpoint,
    drive,
    each,
    redeem_code,
    sign_in,
)
from bench.harness import progress
from bench.messages import free_port
from bench.served import (
    ROOT,
    DatabaseClock,
    Seeded,
    Server,
    bare_env,
    database,
    database_label,
    gunicorn,
    seed,
    vestibule_env,
)

#: Another checkout (an older commit, say) may read the rate limits from its code
#: rather than the environment: the same values are passed to its create_app.
OTHER_TREE_TARGET = (
    "app:create_app(SIGN_IN_RATE_LIMIT='100000 per minute', TOKEN_RATE_LIMIT='100000 per minute')"
)
DISCOVERY = "/.well-known/openid-configuration"


@dataclass
class Load:
    """How hard and how long each endpoint is driven."""

    connections: int
    seconds: float
    warmup: float


@dataclass
class Measured:
    """One endpoint's run."""

    endpoint: str
    database: str
    #: What sent the requests: "wrk" or "python" (client threads).
    load: str
    done: int
    failed: int
    seconds: float
    cpu: float
    db_cpu: float | None

    @property
    def per_second(self) -> float:
        """Steps per second of wall time."""
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """gunicorn's CPU milliseconds per step (master and workers)."""
        return 1000 * self.cpu / self.done if self.done else float("nan")

    @property
    def db_cpu_ms(self) -> float | None:
        """PostgreSQL's own CPU milliseconds per step, when it could be read."""
        if self.db_cpu is None or not self.done:
            return None
        return 1000 * self.db_cpu / self.done


def bare(load: Load) -> Measured:
    """The reference: bench/bare_app.py under the same gunicorn settings."""
    port = free_port()
    with gunicorn("bench.bare_app:app", ROOT, bare_env(), port, "/ping") as server:
        return measure(server, BARE, None, load, "-", DatabaseClock(None))


def vestibule(backend: str, load: Load, tree: Path = ROOT) -> list[Measured]:
    """Every endpoint of ENDPOINTS on a fresh ``backend`` database, served from ``tree``."""
    label = database_label(backend)
    target = "wsgi:app" if tree.resolve() == ROOT else OTHER_TREE_TARGET
    with (
        tempfile.TemporaryDirectory(prefix="vestibule-http-") as folder,
        database(backend, Path(folder)) as (url, application_name),
    ):
        port = free_port()
        env = vestibule_env(tree, url, port)
        started = time.perf_counter()
        seeded = seed(tree, env)
        progress(f"http {backend}: migrated and seeded in {time.perf_counter() - started:.1f} s")
        clock = DatabaseClock(application_name)
        try:
            with gunicorn(target, tree, env, port, DISCOVERY) as server:
                seeded.access_token = _access_token(server, seeded)
                return [
                    measure(server, endpoint, seeded, load, label, clock) for endpoint in ENDPOINTS
                ]
        finally:
            clock.close()


def _access_token(server: Server, seeded: Seeded) -> str:
    browser = Browser(server.port, server.origin)
    try:
        sign_in(browser, seeded)
        return redeem_code(browser, seeded)["access_token"]
    finally:
        browser.close()


def measure(
    server: Server,
    endpoint: Endpoint,
    seeded: Seeded | None,
    load: Load,
    label: str,
    clock: DatabaseClock,
) -> Measured:
    """Prepare the browsers, warm up, then count steps, wall time and CPU: with wrk when
    the endpoint has a fixed request or a script and wrk is installed, else with Python
    client threads."""
    progress(f"http {label}: {endpoint.name}")
    browsers = [Browser(server.port, server.origin) for _ in range(load.connections)]
    try:
        if endpoint.prepare is not None:
            each(browsers, lambda b: endpoint.prepare(b, seeded))
        if wrk.available() and (endpoint.fixed or endpoint.scripted):
            request = (
                endpoint.fixed(seeded) if endpoint.fixed else endpoint.scripted(seeded, browsers)
            )
            wrk.run(server.port, request, load.connections, load.warmup)
            cpu, db_cpu = server.cpu_seconds(), clock.cpu_seconds()
            counted = wrk.run(server.port, request, load.connections, load.seconds)
            driver, seconds = "wrk", counted.seconds
        else:
            drive(browsers, lambda b: endpoint.step(b, seeded), load.warmup)
            cpu, db_cpu = server.cpu_seconds(), clock.cpu_seconds()
            started = time.perf_counter()
            counted = drive(browsers, lambda b: endpoint.step(b, seeded), load.seconds)
            driver, seconds = "python", time.perf_counter() - started
        cpu_after, db_cpu_after = server.cpu_seconds(), clock.cpu_seconds()
    finally:
        for browser in browsers:
            browser.close()
    if counted.first_failure:
        progress(f"http {label}: {endpoint.name}: {counted.failed} failed, first: ")
        progress(f"  {counted.first_failure}")
    db_spent = None if db_cpu is None or db_cpu_after is None else db_cpu_after - db_cpu
    return Measured(
        endpoint.name,
        label,
        driver,
        counted.done,
        counted.failed,
        seconds,
        cpu_after - cpu,
        db_spent,
    )


def rows(measured: list[Measured], reference: Measured) -> list[tuple]:
    """Table rows, each relative to the bare Flask reference."""
    return [
        (
            m.endpoint,
            m.database,
            m.load,
            m.done,
            m.failed,
            f"{m.per_second:,.1f}",
            f"{m.cpu_ms:.2f}",
            "-" if m.db_cpu_ms is None else f"{m.db_cpu_ms:.2f}",
            _times(m.per_second, reference.per_second),
            _times(reference.cpu_ms, m.cpu_ms),
        )
        for m in measured
    ]


def _times(value: float, reference: float) -> str:
    """``value / reference`` as ``0.85x``; ``-`` when either is missing (nothing done)."""
    if not (math.isfinite(value) and math.isfinite(reference)) or reference == 0:
        return "-"
    return f"{value / reference:.2f}x"


HEADER = (
    "endpoint",
    "database",
    "load",
    "done",
    "failed",
    "per s",
    "CPU ms each",
    "DB CPU ms each",
    "x bare rate",
    "x bare CPU",
)


def tree_label(tree: Path) -> str:
    """``/path (abc1234)``: which code was served."""
    commit = subprocess.run(  # noqa: S603
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{tree} ({commit or 'not a git checkout'})"


def load_average() -> str:
    """The 1-minute load average when the run started (the CPUs are shared)."""
    return f"{os.getloadavg()[0]:.1f}"
