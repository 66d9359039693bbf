"""Vestibule started as it is deployed: ``VESTIBULE_ENV=production``, an https issuer,
PostgreSQL migrated and seeded with the ``vestibule`` command, Redis for the rate
limits, gunicorn as a real process (serving TLS itself, or plain http behind a
TLS-terminating proxy) and ``vestibule worker`` sending mail to a real SMTP server."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError

import pytest
import redis

from app.seed import PLAYGROUND_SCOPE
from tests.e2e.conftest import (
    BACK_OFFICE_ID,
    BACK_OFFICE_REDIRECT_URI,
    BACK_OFFICE_SCOPE,
    free_port,
)
from tests.helpers import PASSWORD, AccountInfo, ClientInfo
from tests.messages.conftest import Received, SmtpSink
from tests.production.certificates import TlsFiles
from tests.production.https_client import HttpsClient
from tests.production.https_servers import tls_terminating_proxy

REPO = Path(__file__).resolve().parents[2]
#: The virtualenv's scripts (``vestibule``, ``gunicorn``), next to this interpreter.
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/0"
#: gunicorn serves TLS itself; or gunicorn serves http behind our TLS-terminating proxy.
VARIANTS = ("gunicorn-tls", "behind-proxy")
#: Real limits, high enough for every walk of one run from one address.
RATE_LIMIT = "60 per minute"
#: The variables of the test process a deployed process may see; everything else
#: (a developer's DATABASE_URL, https_proxy ...) stays out.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
#: Seconds the processes get to start, a CLI command to finish, an email to arrive.
STARTUP_TIMEOUT = 60
CLI_TIMEOUT = 120
MAIL_TIMEOUT = 30

#: The playground's client (PLAYGROUND_CLIENT_ID), registered by the seed.
PLAYGROUND_ID = "demo-confidential"
#: A third-party relying party (not first-party: the consent page shows), whose pages
#: are served by tests/production/https_servers.py.
RP_ID = "production-rp"
#: The people the seed creates (their sub comes from its output): one who signs in, one
#: who forgets their password, one administrator.
PERSON = AccountInfo("", "grace@example.com", PASSWORD)
FORGETFUL = AccountInfo("", "fay@example.com", PASSWORD)
ADMIN = AccountInfo("", "ada.admin@example.com", PASSWORD)


@dataclass
class Deployment:
    """One running deployment: where it answers, who can sign in, what it sent."""

    variant: str
    issuer: str
    tls: TlsFiles
    mail: SmtpSink
    person: AccountInfo
    forgetful: AccountInfo
    admin: AccountInfo
    rp: ClientInfo
    back_office: ClientInfo
    #: This deployment's RATELIMIT_KEY_PREFIX: its counters in Redis carry it.
    rate_limit_prefix: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def client(self) -> HttpsClient:
        """A fresh HTTPS client (empty cookie jar) trusting the test CA."""
        return HttpsClient(self.issuer, self.tls.ca)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines each process wrote (gunicorn's stderr and access log, the
        worker's output), for failure messages."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {name} ({path}) ---\n{tail}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        """Fail, with their output, when a process has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log_tail()}")

    def mails_to(self, address: str) -> list[Received]:
        """The messages the SMTP server accepted for ``address``, oldest first."""
        return [m for m in list(self.mail.messages) if address in m.rcpt_tos]

    def wait_for_mail(self, address: str, seen: int = 0) -> Received:
        """The message to ``address`` after the ``seen`` ones already there, once the
        worker has delivered it."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while len(messages := self.mails_to(address)) <= seen:
            self.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no email to {address} within {MAIL_TIMEOUT} s "
                    f"(had {seen}):\n{self.log_tail()}"
                )
            time.sleep(0.1)
        return messages[seen]

    def link_in(self, message: Received, path: str) -> str:
        """The first link to ``path`` on this issuer in the message's text part."""
        pattern = re.escape(self.issuer + path) + r"\S+"
        found = re.search(pattern, message.part("plain"))
        assert found, f"no {path} link in:\n{message.part('plain')}"
        return found.group(0)


def redis_or_skip() -> None:
    """Skip without Redis at REDIS_URL; fail instead under REQUIRE_POSTGRES=1.

    CI (.ci/run) sets REQUIRE_POSTGRES=1 to say "the real services are here"; Redis is
    one of them, so it needs no flag of its own.
    """
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    finally:
        client.close()


def rate_limit_keys(prefix: str) -> list[str]:
    """The Redis keys of the rate-limit counters carrying ``prefix``."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, decode_responses=True)
    try:
        return list(client.scan_iter(match=f"*{prefix}*"))
    finally:
        client.close()


def forget_rate_limits(prefix: str) -> None:
    """Delete this run's rate-limit counters (they would expire anyway)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        for key in rate_limit_keys(prefix):
            client.delete(key)
    finally:
        client.close()


def environment(issuer: str, database_url: str, mail_port: int) -> dict[str, str]:
    """The environment every process of the installation runs with (its env file)."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        VESTIBULE_ENV="production",
        ISSUER=issuer,
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        SIGN_IN_RATE_LIMIT=RATE_LIMIT,
        TOKEN_RATE_LIMIT=RATE_LIMIT,
        REGISTRATION_RATE_LIMIT=RATE_LIMIT,
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(mail_port),
        MAIL_SECURITY="none",
        MAIL_FROM="Vestibule <no-reply@vestibule.test>",
        MAIL_TIMEOUT="5",
        OUTBOX_POLL_INTERVAL="0.2",
        PLAYGROUND_CLIENT_ID=PLAYGROUND_ID,
        PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """``vestibule <args>`` as an operator runs it; its output, or a failure showing it."""
    result = subprocess.run(
        [str(BIN / "vestibule"), *args],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(
            f"vestibule {' '.join(args[:2])} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@dataclass
class Seeded:
    """What the seed commands printed: the client secrets and the accounts' subs."""

    playground_secret: str
    rp: ClientInfo
    back_office: ClientInfo
    person: AccountInfo
    forgetful: AccountInfo
    admin: AccountInfo


def seed(env: dict[str, str], issuer: str, rp_base: str) -> Seeded:
    """Register the clients (the third-party one with its pages at ``rp_base``) and
    create the accounts with ``vestibule clients create`` and ``vestibule users create``
    (independent commands, run side by side)."""
    rp_redirect_uri = f"{rp_base}/callback"
    playground = (
        *("clients", "create", "--name", "Vestibule Playground", "--client-id", PLAYGROUND_ID),
        *("--redirect-uri", f"{issuer}/playground/callback", "--first-party"),
        *("--scope", PLAYGROUND_SCOPE),
        *("--post-logout-redirect-uri", f"{issuer}/playground/"),
        *("--initiate-login-uri", f"{issuer}/playground/login"),
    )
    rp = (
        *("clients", "create", "--name", "Production RP", "--client-id", RP_ID),
        *("--redirect-uri", rp_redirect_uri, "--post-logout-redirect-uri", f"{rp_base}/bye"),
    )
    back_office = (
        *("clients", "create", "--name", "Back office", "--client-id", BACK_OFFICE_ID),
        *("--grant-type", "client_credentials", "--scope", BACK_OFFICE_SCOPE),
        *("--redirect-uri", BACK_OFFICE_REDIRECT_URI),
    )

    def user(person: AccountInfo, *extra: str) -> tuple[str, ...]:
        return ("users", "create", "--email", person.email, "--password", person.password, *extra)

    commands = [
        playground,
        rp,
        back_office,
        user(PERSON, "--given-name", "Grace", "--family-name", "Hopper"),
        user(FORGETFUL, "--given-name", "Fay"),
        user(ADMIN, "--given-name", "Ada", "--role", "admin"),
    ]
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        outputs = list(pool.map(lambda args: run_cli(env, *args), commands))
    secrets_ = [_printed(out, r"client_secret:\s+(\S+)") for out in outputs[:3]]
    subs = [_printed(out, r"\(sub (\S+)\)") for out in outputs[3:]]
    return Seeded(
        secrets_[0],
        ClientInfo(RP_ID, secrets_[1], rp_redirect_uri),
        ClientInfo(BACK_OFFICE_ID, secrets_[2], BACK_OFFICE_REDIRECT_URI),
        *(
            AccountInfo(sub, person.email, person.password)
            for sub, person in zip(subs, (PERSON, FORGETFUL, ADMIN), strict=True)
        ),
    )


def _printed(output: str, pattern: str) -> str:
    found = re.search(pattern, output)
    assert found, f"{pattern!r} not in the command's output:\n{output}"
    return found.group(1)


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator:
    """Run ``argv`` with its output (stdout and stderr) in ``log``; always stopped:
    SIGTERM, a wait, SIGKILL if it will not go."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=10)


def gunicorn_argv(port: int, tls: TlsFiles | None) -> list[str]:
    """gunicorn as README's production section runs it, bound to 127.0.0.1 only."""
    argv = [
        str(BIN / "gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"),
        *("--graceful-timeout", "5", "--access-logfile", "-", "--no-control-socket"),
    ]
    if tls is not None:
        argv += ["--certfile", str(tls.cert), "--keyfile", str(tls.key)]
    else:
        # gunicorn would itself honour X-Forwarded-Proto from 127.0.0.1; trusting
        # nobody leaves that to the app's ProxyFix (PROXY_FIX_HOPS), as when the proxy
        # runs on another host.
        argv += ["--forwarded-allow-ips", ""]
    return [*argv, "wsgi:app"]


def wait_until_serving(deployment: Deployment) -> None:
    """Poll discovery over https until it answers 200 (or a process dies, or time is up)."""
    client = deployment.client()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        deployment.check_alive()
        try:
            answer = client.get("/.well-known/openid-configuration")
        except (URLError, OSError):
            answer = None
        if answer is not None and answer.status == 200:
            assert answer.json()["issuer"] == deployment.issuer
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{deployment.issuer} did not answer in time:\n{deployment.log_tail()}")
        time.sleep(0.2)


@dataclass
class Installation:
    """A database migrated and seeded for one issuer, and the environment to serve it."""

    port: int
    issuer: str
    env: dict[str, str]
    seeded: Seeded


def install(database_url: str, mail_port: int, tls: TlsFiles, rp_base: str) -> Installation:
    """``vestibule db upgrade``, then the seed, for ``https://127.0.0.1:<free port>``."""
    port = free_port()
    issuer = f"https://127.0.0.1:{port}"
    env = environment(issuer, database_url, mail_port)
    run_cli(env, "db", "upgrade")
    seeded = seed(env, issuer, rp_base)
    # The playground's secret exists only once its client is registered; it calls the
    # token endpoint over https from inside gunicorn, trusting the test CA.
    env |= {
        "PLAYGROUND_ENABLED": "1",
        "PLAYGROUND_CLIENT_SECRET": seeded.playground_secret,
        "SSL_CERT_FILE": str(tls.ca),
    }
    return Installation(port, issuer, env, seeded)


@contextmanager
def serve(
    installation: Installation, variant: str, tls: TlsFiles, mail: SmtpSink, logs: Path
) -> Iterator[Deployment]:
    """Start gunicorn (and, behind-proxy, the proxy) and the worker on the installation's
    port; stop them all afterwards. Both variants serve one issuer, one after the other."""
    behind_proxy = variant == "behind-proxy"
    prefix = f"vestibule-test-{secrets.token_hex(6)}"
    env = installation.env | {
        "RATELIMIT_KEY_PREFIX": prefix,
        # gunicorn serving TLS itself has nothing in front whose X-Forwarded-* to trust.
        "PROXY_FIX_HOPS": "1" if behind_proxy else "0",
    }
    seeded = installation.seeded
    deployment = Deployment(
        variant,
        installation.issuer,
        tls,
        mail,
        seeded.person,
        seeded.forgetful,
        seeded.admin,
        seeded.rp,
        seeded.back_office,
        prefix,
    )
    app_port = free_port() if behind_proxy else installation.port
    with ExitStack() as stack:
        stack.callback(forget_rate_limits, prefix)
        for name, argv in [
            ("gunicorn", gunicorn_argv(app_port, None if behind_proxy else tls)),
            ("worker", [str(BIN / "vestibule"), "worker"]),
        ]:
            deployment.logs[name] = logs / f"{name}.log"
            deployment.processes[name] = stack.enter_context(
                process(argv, env, deployment.logs[name])
            )
        if behind_proxy:
            stack.enter_context(tls_terminating_proxy(installation.port, app_port, tls))
        wait_until_serving(deployment)
        yield deployment
