"""Redis down is not an outage: rate limits go on per process, sign-in and tokens keep
working, one warning per outage, and the shared limits come back with Redis.

A private redis-server on a free port (the machine's own Redis serves other tests),
stopped and started again under a real HTTP server.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import redis
import requests

from app import create_app
from app.extensions import db
from tests.e2e.conftest import free_port, serving
from tests.helpers import PASSWORD, Factory, csrf_token, form_action

REDIS_SERVER = shutil.which("redis-server")
TOKEN_LIMIT = 5
#: Bounds every wait on the private Redis.
WAIT = 20


class RedisProcess:
    """redis-server on 127.0.0.1:<port>, keeping nothing on disk."""

    def __init__(self, port: int, folder: Path):
        self.port, self.folder = port, folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        deadline = time.monotonic() + WAIT
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=WAIT)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)

    def limit_keys(self) -> list[bytes]:
        client = self.client()
        try:
            # Any key: this Redis holds nothing but the limits. (Not by prefix: the
            # module-level limiter keeps the first app's RATELIMIT_KEY_PREFIX.)
            return client.keys("*")
        finally:
            client.close()


@pytest.fixture
def private_redis(tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(private_redis, tmp_path):
    """Vestibule on a real port, limits in the private Redis; a machine client and a
    person who can sign in."""
    port = free_port()
    app = create_app(
        "testing",
        ISSUER=f"http://127.0.0.1:{port}",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'outage.db'}",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{private_redis.port}/0",
        RATELIMIT_KEY_PREFIX="outage-test",
        TOKEN_RATE_LIMIT=f"{TOKEN_LIMIT} per minute",
        SIGN_IN_RATE_LIMIT="100 per minute",
        REGISTRATION_RATE_LIMIT="100 per minute",
        SIGNUP_MODE="public",
    )
    with app.app_context():
        db.create_all()
    factory = Factory(app)
    machine = factory.client(grant_types=["client_credentials"], scope="invitations:read")
    person = factory.account()
    rp = factory.client()
    with serving(app, port):
        yield f"http://127.0.0.1:{port}", machine, person, rp
    with app.app_context():
        db.engine.dispose()


def _token(base: str, machine) -> int:
    response = requests.post(
        f"{base}/token",
        data={"grant_type": "client_credentials"},
        headers=machine.basic_auth(),
        timeout=10,
    )
    return response.status_code


def _form(session: requests.Session, url: str, form_id: str | None = None, **fields):
    """GET a page, POST its form (``form_id`` or the first) with its CSRF token."""
    page = session.get(url, timeout=10).text
    action = urljoin(url, form_action(page, form_id) if form_id else url)
    return session.post(action, data={"csrf_token": csrf_token(page), **fields}, timeout=10)


def test_stopping_redis_keeps_sign_in_and_tokens_working(live, private_redis, caplog):
    """With Redis stopped, tokens, sign-in, registration and the password pages answer
    as usual; limits still apply per process; one warning; Redis back, limits shared."""
    base, machine, person, rp = live
    assert _token(base, machine) == 200
    assert private_redis.limit_keys(), "the limits are not kept in Redis"

    private_redis.stop()
    with caplog.at_level("WARNING"):
        codes = [_token(base, machine) for _ in range(TOKEN_LIMIT + 1)]
        browser = requests.Session()
        signed_in = _form(browser, f"{base}/login", email=person.email, password=person.password)
        newcomer = requests.Session()
        registered = _form(
            newcomer, f"{base}/register", "registration", email="new@example.com", password=PASSWORD
        )
        forgot = _form(requests.Session(), f"{base}/password/forgot", email=person.email)
    assert codes == [200] * TOKEN_LIMIT + [429]  # counted in this process meanwhile
    assert signed_in.status_code == 200 and signed_in.url.endswith("/account")
    assert registered.status_code == 200 and registered.url.endswith("/account")
    assert forgot.status_code == 200 and forgot.url.endswith("/password/forgot/sent")
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

    private_redis.start()
    deadline = time.monotonic() + WAIT
    while not private_redis.limit_keys():
        assert time.monotonic() < deadline, "the limits never went back to Redis"
        _token(base, machine)
        time.sleep(0.2)
