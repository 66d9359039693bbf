"""Request ids and log lines: an id per request, plain or JSON lines carrying it, and
no secret URL in any of them."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask import g

from app import create_app
from app.extensions import db
from app.observability.logs import init_logging
from app.observability.redact import redact, redact_query
from config import ConfigurationError

GENERATED = re.compile(r"[0-9a-f]{32}")
SECRET = "Zq9-secret_link_token"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /i/{SECRET} HTTP/1.1", "GET /i/[redacted] HTTP/1.1"),
        (f"https://id.example.com/i/{SECRET}?x=1", "https://id.example.com/i/[redacted]?x=1"),
        (f"/password/reset/{SECRET}", "/password/reset/[redacted]"),
        (f"/verify/email/{SECRET}", "/verify/email/[redacted]"),
        (
            f"/authorize?client_id=a&invite_id={SECRET}&s=1",
            "/authorize?client_id=a&invite_id=[redacted]&s=1",
        ),
        (f"/login?next=%2Fi%2F{SECRET}", "/login?next=%2Fi%2F[redacted]"),
        (
            f"/login?next=%2Fauthorize%3Finvite_id%3D{SECRET}%26state%3Dx",
            "/login?next=%2Fauthorize%3Finvite_id%3D[redacted]%26state%3Dx",
        ),
        ("/password/forgot?next=/account", "/password/forgot?next=/account"),
        ("/api/v1/invitations/3f2c", "/api/v1/invitations/3f2c"),
    ],
)
def test_redact(text, expected):
    """Secret path segments and invite_id values go, the rest of the line stays."""
    assert redact(text) == expected


def test_redact_query_keeps_protocol_settings_only():
    """Access logs keep every parameter's name, protocol settings' values, nothing else."""
    query = f"response_type=code&client_id=rp&login_hint=ada%40example.com&invite_id={SECRET}&x"
    assert redact_query(query) == (
        "response_type=code&client_id=rp&login_hint=[redacted]&invite_id=[redacted]&x"
    )


def test_sane_request_id_is_kept_and_echoed(client):
    """An incoming X-Request-Id of up to 64 safe characters is kept and echoed."""
    response = client.get("/healthz", headers={"X-Request-Id": "lb-1234.abc_DEF"})
    assert response.headers["X-Request-Id"] == "lb-1234.abc_DEF"


@pytest.mark.parametrize("incoming", [None, "", "x" * 65, "has space", 'quo"te', "nl\\nx"])
def test_other_request_ids_are_replaced(client, incoming):
    """A missing, long or odd X-Request-Id is replaced by a fresh one, per request."""
    headers = {"X-Request-Id": incoming} if incoming is not None else {}
    first = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    second = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_request_id_is_on_every_line_of_the_request(app, client, caplog, monkeypatch):
    """The request's log line (LOG_REQUESTS) carries ``g.request_id``, method, endpoint
    and status; the plain line shows the id and the path redacted."""
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    caplog.set_level(logging.INFO, logger="app")
    stream = io.StringIO()
    client.get(f"/i/{SECRET}", headers={"X-Request-Id": "req-42"}, errors_stream=stream)
    [line] = [r for r in caplog.records if r.name == "app.requests"]
    assert (line.request_id, line.method, line.endpoint, line.status) == (
        "req-42",
        "GET",
        "invite_links.short_link",
        404,
    )
    [plain] = stream.getvalue().splitlines()
    assert "INFO app.requests [req-42] GET /i/[redacted] 404" in plain
    assert SECRET not in plain


@pytest.fixture
def json_app(tmp_path, app):
    """An app logging JSON lines; the plain handler is put back afterwards."""
    json_app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'json.db'}", LOG_FORMAT="json"
    )
    with json_app.app_context():
        db.create_all()
    yield json_app
    with json_app.app_context():
        db.engine.dispose()
    init_logging(app)


def test_json_lines(json_app, caplog):
    """LOG_FORMAT=json: one JSON object per line with time, level, logger, message,
    request id, method, endpoint and status; no secret in messages or tracebacks."""
    caplog.set_level(logging.INFO, logger="app")
    stream = io.StringIO()
    response = json_app.test_client().get(
        f"/password/reset/{SECRET}", headers={"X-Request-Id": "req-json"}, errors_stream=stream
    )
    with json_app.test_request_context(f"/i/{SECRET}", errors_stream=stream):
        g.request_id = "req-exc"
        try:
            raise ValueError(f"while opening /i/{SECRET}")
        except ValueError:
            logging.getLogger("app.test").exception("failed at /verify/email/%s", SECRET)
    text = stream.getvalue()
    assert SECRET not in text
    entries = [json.loads(line) for line in text.splitlines()]
    served = next(e for e in entries if e["logger"] == "app.requests")
    fields = {"time", "level", "logger", "message", "request_id", "method", "endpoint", "status"}
    assert fields <= set(served)
    assert (served["request_id"], served["method"], served["status"]) == (
        "req-json",
        "GET",
        response.status_code,
    )
    assert served["endpoint"].startswith("password.")
    assert served["path"] == "/password/reset/[redacted]"
    failed = next(e for e in entries if e["logger"] == "app.test")
    assert (failed["level"], failed["request_id"]) == ("ERROR", "req-exc")
    assert failed["message"] == "failed at /verify/email/[redacted]"
    assert "while opening /i/[redacted]" in failed["exception"]


def test_log_format_must_be_known():
    """A LOG_FORMAT other than plain or json stops start-up."""
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        create_app("testing", LOG_FORMAT="xml")


def test_records_reach_other_handlers_redacted(app, caplog):
    """Handlers after ours (a root handler, the development server's) get the redacted
    text: app records and werkzeug's request lines alike."""
    caplog.set_level(logging.INFO)
    logging.getLogger("app.test").warning("opened /i/%s", SECRET)
    logging.getLogger("werkzeug").info('"GET /password/reset/%s HTTP/1.1" 200 -', SECRET)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["opened /i/[redacted]", '"GET /password/reset/[redacted] HTTP/1.1" 200 -']


def test_plain_logs_leave_the_request_line_to_the_access_log(client, caplog):
    """In plain format (the default) Vestibule writes no line of its own per request:
    gunicorn's access log already has it, with the request id."""
    caplog.set_level(logging.INFO, logger="app")
    client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "app.requests"]
