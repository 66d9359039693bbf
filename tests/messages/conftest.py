"""Real delivery endpoints for the message tests: an SMTP server (aiosmtpd) and an SMS
provider (http.server), both in this process on 127.0.0.1, and the settings that
point the app at them for one test."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select, update

from app.extensions import db
from app.messages.mail import close_connection
from app.models import OutboxItem, utcnow
from app.outbox.worker import Worker
from tests.api import conftest as api_fixtures

# The admin API's token fixtures, shared with tests/api.
machine_headers = api_fixtures.machine_headers
person_headers = api_fixtures.person_headers
admin_headers = api_fixtures.admin_headers
invite_client = api_fixtures.invite_client

INVITATIONS = "/api/v1/invitations"
SMTP_USER, SMTP_PASSWORD = "vestibule", "smtp-secret"


def free_port() -> int:
    """A TCP port nothing listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The decoded text/<subtype> part."""
        return self.message.get_body((subtype,)).get_content()


@dataclass
class SmtpSink:
    """aiosmtpd's handler: keeps what it accepts; ``refuse`` answers RCPT with a reply."""

    port: int
    messages: list[Received] = field(default_factory=list)
    refuse: str | None = None
    #: EHLOs seen: one per SMTP connection.
    connections: int = 0
    controller: Controller | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"

    def start(self, **options) -> None:
        """Listen on ``port`` (options go to aiosmtpd's SMTP, e.g. an authenticator)."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port():
    """A free port the app's MAIL_PORT points at (nothing listens there yet)."""
    return free_port()


@pytest.fixture
def smtp_settings(app, monkeypatch, smtp_port):
    """MAIL_BACKEND=smtp towards 127.0.0.1:smtp_port, plain (the test server has no TLS)."""
    for name, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_SECURITY": "none",
        "MAIL_TIMEOUT": 5,
        "MAIL_FROM": "Vestibule <no-reply@vestibule.test>",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    return app.config


@pytest.fixture
def smtp_server(smtp_settings, smtp_port):
    """A stopped SMTP server on MAIL_PORT; ``smtp_server.start()`` opens it."""
    sink = SmtpSink(smtp_port)
    yield sink
    close_connection()
    sink.stop()


@pytest.fixture
def smtp(smtp_server):
    """A running SMTP server that the app delivers to."""
    smtp_server.start()
    return smtp_server


def password_authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """aiosmtpd authenticator accepting SMTP_USER / SMTP_PASSWORD only."""
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@dataclass
class SmsRequest:
    """One request the SMS provider received."""

    headers: dict[str, str]
    body: dict


class SmsProvider:
    """A webhook-style SMS provider answering the statuses in ``answers`` in turn (then 200)."""

    def __init__(self):
        self.requests: list[SmsRequest] = []
        self.answers: list[int] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                provider.requests.append(SmsRequest(dict(self.headers), body))
                status = provider.answers.pop(0) if provider.answers else 200
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def sms_provider(app, monkeypatch):
    """A running SMS provider the app's SMS_BACKEND=http posts to."""
    provider = SmsProvider()
    provider.start()
    monkeypatch.setitem(app.config, "SMS_BACKEND", "http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", provider.url)
    monkeypatch.setitem(app.config, "SMS_HTTP_AUTH_HEADER", "Authorization: Bearer sms-token")
    monkeypatch.setitem(app.config, "SMS_FROM", "Vestibule")
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 5)
    yield provider
    provider.stop()


# -- helpers ---------------------------------------------------------------------------


@pytest.fixture
def invite(client, admin_headers, invite_client):
    """``invite(**body)``: POST /api/v1/invitations for the ``shop`` client; the 201 JSON."""

    def make(headers: dict | None = None, **body) -> dict:
        body.setdefault("client_id", "shop")
        response = client.post(INVITATIONS, json=body, headers={**admin_headers, **(headers or {})})
        assert response.status_code == 201, response.json
        return response.json

    return make


def run_worker(app) -> int:
    """One batch of the outbox worker; how many items it tried."""
    with app.app_context():
        return Worker().run_once()


@dataclass
class ItemView:
    """An outbox item as plain values."""

    public_id: str
    kind: str
    state: str
    attempts: int
    last_error: str | None
    recipient: str
    payload: str
    next_attempt_in: float


def outbox(app) -> list[ItemView]:
    """Every outbox item, oldest first."""
    with app.app_context():
        now = utcnow()
        return [
            ItemView(
                item.public_id,
                item.kind,
                item.state,
                item.attempts,
                item.last_error,
                item.recipient,
                item.payload,
                (item.next_attempt_at - now).total_seconds(),
            )
            for item in db.session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        ]


def make_due(app) -> None:
    """Every pending item may be tried now (instead of waiting out its backoff)."""
    with app.app_context():
        db.session.execute(update(OutboxItem).values(next_attempt_at=utcnow()))
        db.session.commit()
