"""Vestibule served like production for the HTTP benchmark: gunicorn (2 sync workers)
as a subprocess with ``VESTIBULE_ENV=production``, the schema made by ``vestibule db
upgrade``, seeded by one Python step run with the served tree's code, and the CPU time
of its processes read from ``/proc``."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from bench.harness import postgres_url, progress
from tests.conftest import private_schema
from tests.helpers import ClientInfo

#: This checkout: the bare Flask app is always served from here.
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: High enough that no benchmark meets a limit; the limiter still runs on every request.
HIGH_RATE_LIMIT = "100000 per minute"
WORKERS = 2
#: A proxy terminates TLS in front of gunicorn (PROXY_FIX_HOPS=1) and says so.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
WEB_CLIENT_ID = "bench-web"
WEB_REDIRECT_URI = "https://rp.bench.example/callback"
MACHINE_CLIENT_ID = "bench-machine"
MACHINE_SCOPE = "invitations:read"
EMAIL = "bench.person@example.com"
PASSWORD = "a bench passphrase, long enough"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Seeded:
    """What the seed step made: a first-party web client, a machine client, an account."""

    web: ClientInfo
    machine: ClientInfo
    email: str = EMAIL
    password: str = PASSWORD
    #: For /userinfo: from one code flow once the server runs.
    access_token: str = ""


@dataclass
class Server:
    """A running gunicorn master on 127.0.0.1:``port``."""

    process: subprocess.Popen
    port: int

    @property
    def origin(self) -> str:
        """The public origin the app believes it has (the issuer)."""
        return f"https://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the master, its live workers, and any it has reaped."""
        master = self.process.pid
        total = _cpu_seconds(master, reaped=True)
        for pid in _children(master):
            total += _cpu_seconds(pid)
        return total


def vestibule_env(tree: Path, database_url: str, port: int) -> dict[str, str]:
    """A production environment from scratch (nothing inherited from this shell but
    PATH, HOME and any ARGON2_* to measure), importing ``app`` from ``tree``, with the
    rate limits in Redis as deployed when one answers (``limits_storage``)."""
    argon2 = {k: v for k, v in os.environ.items() if k.startswith("ARGON2_")}
    redis_url = limits_storage()
    limits = {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": f"bench-{port}"} if redis_url else {}
    return {
        **argon2,
        **limits,
        **bare_env(tree),
        "VESTIBULE_ENV": "production",
        "ISSUER": f"https://127.0.0.1:{port}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",  # required by the smtp backend; nothing is sent
        "PROXY_FIX_HOPS": "1",
        "SIGN_IN_RATE_LIMIT": HIGH_RATE_LIMIT,
        "TOKEN_RATE_LIMIT": HIGH_RATE_LIMIT,
    }


def limits_storage() -> str | None:
    """BENCH_REDIS_URL (default the local Redis) when it answers a PING, else None: the
    app then counts its limits in each worker's memory, unlike a deployment."""
    url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) as client:
            client.ping()
    except (redis.RedisError, OSError):
        return None
    return url


def bare_env(tree: Path = ROOT) -> dict[str, str]:
    """PATH, HOME and the code of ``tree``, nothing else (the bare Flask app's)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "PYTHONPATH": str(tree),
    }


#: Run by the served tree's Python (``python -c``), so that it imports that tree's
#: ``app``: a signing key, the clients and the account, and where ``app`` came from.
#: One process rather than a CLI call each (each loads the whole app: ~2 s of CPU).
SEED_STEP = """
import json, sys
import app, config
from app import create_app
from app.accounts.service import create_account
from app.clients.service import create_client
from app.oauth import keys

web_id, web_uri, machine_id, machine_scope, email, password = sys.argv[1:]
with create_app().app_context():
    keys.rotate_keys()
    _, web = create_client(
        "Bench web", [web_uri], client_id=web_id, first_party=True,
        grant_types=["authorization_code"], scope="openid profile email",
    )
    _, machine = create_client(
        "Bench machine", ["https://machine.bench.example/unused"], client_id=machine_id,
        grant_types=["client_credentials"], scope=machine_scope,
    )
    create_account(email, password, given_name="Bench", email_verified=True)
print(json.dumps({"app": app.__file__, "config": config.__file__, "web": web, "machine": machine}))
"""


def seed(tree: Path, env: dict[str, str]) -> Seeded:
    """The schema by the real CLI (``vestibule db upgrade``), then a signing key, a
    first-party web client, a client_credentials client and an account (hashed with
    the served config's argon2 parameters). Says where ``app`` was imported from."""
    _run([str(BIN / "vestibule"), "db", "upgrade"], tree, env)
    arguments = [WEB_CLIENT_ID, WEB_REDIRECT_URI, MACHINE_CLIENT_ID, MACHINE_SCOPE]
    output = _run([str(BIN / "python"), "-c", SEED_STEP, *arguments, EMAIL, PASSWORD], tree, env)
    made = json.loads(output.strip().splitlines()[-1])
    progress(f"http: served code: {made['app']}, {made['config']}")
    return Seeded(
        web=ClientInfo(WEB_CLIENT_ID, made["web"], WEB_REDIRECT_URI),
        machine=ClientInfo(MACHINE_CLIENT_ID, made["machine"], ""),
    )


def _run(command: list[str], tree: Path, env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our own venv's executables
        command, cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def gunicorn(target: str, tree: Path, env: dict[str, str], port: int, probe: str):
    """gunicorn serving ``target`` from ``tree`` on 127.0.0.1:``port``, stopped (and
    killed if it lingers) on the way out, whatever happened."""
    command = [str(BIN / "gunicorn"), target, "--workers", str(WORKERS)]
    command += ["--worker-class", "sync", "--bind", f"127.0.0.1:{port}"]
    command += ["--no-control-socket", "--chdir", str(tree)]
    # Every setting is on this line, the same for each tree and for bare Flask: a
    # gunicorn.conf.py in the checkout is not read (its threads would turn the sync
    # workers into gthread ones).
    command += ["--config", os.devnull]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_serving(process, port, probe, log)
            yield Server(process, port)
        finally:
            _stop(process)


def _wait_until_serving(process: subprocess.Popen, port: int, probe: str, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if len(_children(process.pid)) == WORKERS and _answers(port, probe):
            return
        time.sleep(0.2)
    log.seek(0)
    tail = log.read()[-3000:]
    raise RuntimeError(f"gunicorn did not serve {probe} on port {port}:\n{tail}")


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _cpu_seconds(pid: int, reaped: bool = False) -> float:
    """utime + stime of ``pid`` (and cutime + cstime of children it waited for)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3, the state
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


@contextmanager
def database(backend: str, folder: Path) -> Iterator[tuple[str, str | None]]:
    """(DATABASE_URL, PostgreSQL application_name or None) for a fresh database."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'vestibule.db'}", None
        return
    name = f"vestibule_bench_{secrets.token_hex(4)}"
    with private_schema(postgres_url(), "vestibule_http") as url:
        yield f"{url}&application_name={name}", name


class DatabaseClock:
    """CPU seconds of the PostgreSQL backends serving one app (by application_name),
    when the server runs on this machine and its processes are visible here. A backend
    that ends between two readings takes its time with it (the pools keep theirs)."""

    def __init__(self, application_name: str | None):
        self.name = application_name
        self._engine = create_engine(postgres_url()) if application_name else None

    def cpu_seconds(self) -> float | None:
        """Their total so far, or None when there is nothing to read."""
        if self._engine is None:
            return None
        with self._engine.connect() as conn:
            pids = conn.scalars(
                text("select pid from pg_stat_activity where application_name = :name"),
                {"name": self.name},
            ).all()
        if not pids or not all(Path(f"/proc/{pid}/stat").exists() for pid in pids):
            return None
        return sum(_cpu_seconds(pid) for pid in pids)

    def close(self) -> None:
        """Release the bench's own connection."""
        if self._engine is not None:
            self._engine.dispose()


def database_label(backend: str) -> str:
    """``SQLite 3.x.y`` or ``PostgreSQL 1x.y``."""
    if backend == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(postgres_url())
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + conn.scalar(text("show server_version")).split()[0]
    finally:
        engine.dispose()
