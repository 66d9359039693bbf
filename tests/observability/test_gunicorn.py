"""The shipped gunicorn.conf.py, run as a real gunicorn: secret URLs never reach its
access or error log (nor Vestibule's own lines), and /metrics adds up every worker."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.extensions import db
from tests.e2e.conftest import free_port
from tests.observability.conftest import heads, write_versions

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Variables of the test process gunicorn may see; nothing else leaks in.
INHERITED = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TZ")
#: Seconds gunicorn gets to start and to stop.
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 20
SECRET = "Sx" + secrets.token_urlsafe(24)
EMAIL = "grace.hopper%40example.com"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep redirects as answers: the test looks at each request on its own."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


def get(base: str, path: str, **headers: str) -> tuple[int, str]:
    """GET ``path``; its status and body (errors are answers too)."""
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, log path): gunicorn -c gunicorn.conf.py serving
    production settings over an SQLite file at the migrations' head, two workers, a
    Prometheus multiprocess folder, /metrics open to 127.0.0.1."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    database = f"sqlite:///{tmp_path / 'vestibule.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database)
    with app.app_context():
        db.create_all()
    write_versions(app, *heads(app))
    with app.app_context():
        db.engine.dispose()
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        HOME=str(tmp_path),
        VESTIBULE_ENV="production",
        ISSUER="https://id.vestibule.test",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database,
        MAIL_SERVER="127.0.0.1",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        METRICS_ALLOW_FROM="127.0.0.1/32",
        LOG_REQUESTS="1",  # Vestibule's own request lines too, to check they are redacted
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        *("-c", str(REPO / "gunicorn.conf.py")),
        *("--bind", f"127.0.0.1:{port}", "--no-control-socket"),
        "wsgi:app",
    ]
    log = tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        child = subprocess.Popen(
            argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
        try:
            _wait_until_serving(child, base, log)
            yield base, log
        finally:
            child.terminate()
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=STOP_TIMEOUT)


def _wait_until_serving(child: subprocess.Popen, base: str, log: Path) -> None:
    """Probe /healthz until it answers (a bounded wait)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if child.poll() is not None:
            pytest.fail(f"gunicorn exited with {child.returncode}:\n{log.read_text()}")
        try:
            status, _ = get(base, "/healthz")
        except OSError:
            status = None
        if status == 200:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not answer in time:\n{log.read_text()}")
        time.sleep(0.2)


def _value(exposition: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_secret_urls_never_reach_the_logs(served):
    """Short links, reset and verification links and invite_id are logged by shape only,
    in gunicorn's access log and in Vestibule's request lines, and query values other
    than protocol settings (a login_hint) not at all; the request id we sent is in
    gunicorn's line."""
    base, log = served
    paths = [
        f"/i/{SECRET}",
        f"/password/reset/{SECRET}",
        f"/verify/email/{SECRET}",
        f"/authorize?response_type=code&client_id=rp&invite_id={SECRET}&login_hint={EMAIL}",
        f"/login?next=%2Fi%2F{SECRET}",
    ]
    statuses = [
        get(base, path, **{"X-Request-Id": f"probe-{n}"})[0] for n, path in enumerate(paths)
    ]
    assert all(status < 500 for status in statuses), statuses
    served_log = _written_log(served)

    assert SECRET not in served_log
    assert "grace.hopper" not in served_log  # login_hint: personal data
    assert '"GET /i/[redacted] HTTP/1.1"' in served_log
    assert '"GET /password/reset/[redacted] HTTP/1.1"' in served_log
    assert "/verify/email/[redacted]" in served_log
    assert (
        "/authorize?response_type=code&client_id=rp&invite_id=[redacted]&login_hint=[redacted]"
        in served_log
    )
    assert "request_id=probe-0" in served_log
    assert "INFO app.requests [probe-0] GET /i/[redacted]" in served_log


def test_metrics_add_up_every_worker(served):
    """With PROMETHEUS_MULTIPROC_DIR, /metrics counts the requests of both workers,
    whichever one answers the scrape."""
    base, _ = served
    labels = {"endpoint": "observability.healthz", "method": "GET", "status": "200"}
    status, exposition = get(base, "/metrics")
    assert status == 200
    before = _value(exposition, "vestibule_http_requests_total", **labels)
    for _ in range(20):
        assert get(base, "/healthz")[0] == 200
    after = _value(get(base, "/metrics")[1], "vestibule_http_requests_total", **labels)
    assert after == before + 20


def _written_log(served) -> str:
    """Everything gunicorn and the app wrote, once the last line is flushed (the access
    line is written after the answer is sent)."""
    _, log = served
    deadline = time.monotonic() + STOP_TIMEOUT
    while "/login?next=" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return log.read_text()


def test_gunicorns_own_refusals_are_json(served):
    """A request line over gunicorn's limit never reaches the app: gunicorn answers 414
    itself, in JSON like every API error, without echoing the line."""
    base, log = served
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port)
    try:
        connection.request("GET", f"/api/v1/invitations?q={SECRET}{'x' * 5000}")
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status == 414
    assert answer.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"error": "uri_too_long", "error_description": "URI Too Long"}
    deadline = time.monotonic() + STOP_TIMEOUT
    while "Request Line is too large" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Request Line is too large" in log.read_text()
    assert SECRET not in log.read_text()
