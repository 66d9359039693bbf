"""Fixtures for webhooks: admin API tokens with the webhook scopes, a real HTTP
receiver on 127.0.0.1, and a signature check written from the Standard Webhooks
text alone (not our code, not the library's)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.outbox.worker import Worker
from tests.api.conftest import machine_headers, person_headers  # noqa: F401 (fixtures)
from tests.helpers import INITIATE_LOGIN_URI, ClientInfo

WEBHOOKS = "/api/v1/webhooks"
WEBHOOK_SCOPES = "webhooks:read webhooks:write"
#: Seconds a receiver accepts between webhook-timestamp and its own clock.
TOLERANCE = 300


def signature_is_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, checked by hand: HMAC-SHA256 with the base64-decoded secret
    over ``{webhook-id}.{webhook-timestamp}.{body}``, matched against any ``v1,``
    signature in webhook-signature, and a timestamp within TOLERANCE seconds."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


@dataclass
class Received:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server answering POSTs with the statuses in ``answers`` (then
    ``default``), keeping what it received."""

    server: ThreadingHTTPServer
    answers: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def types(self) -> list[str]:
        """The event types received, in order."""
        return [request.json["type"] for request in self.received]

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else self.default


def _handler(receiver_ref: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = receiver_ref[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.received.append(Received(headers, body))
            status = receiver.next_status()
            reply = f"answered {status}".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format, *args) -> None:  # noqa: A002 (the base's name)
            pass

    return Handler


@pytest.fixture
def receiver():
    """A live receiver on 127.0.0.1 (a free port), stopped after the test."""
    ref: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    ref.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ref[0]
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def webhook_headers(machine_headers):  # noqa: F811 (the imported fixture)
    """Authorization headers of a machine token with webhooks:read and webhooks:write."""
    return machine_headers(scope=WEBHOOK_SCOPES)


@pytest.fixture
def register_endpoint(client, webhook_headers):
    """``register_endpoint(url, types)``: POST /webhooks; returns the answer (with the
    one-time secret)."""

    def register(url: str, event_types: list[str], **body) -> dict:
        response = client.post(
            WEBHOOKS, headers=webhook_headers, json={"url": url, "event_types": event_types, **body}
        )
        assert response.status_code == 201, response.json
        return response.json

    return register


@pytest.fixture
def run_worker(app):
    """``run_worker()``: deliver everything due now; returns how many items were tried."""

    def run() -> int:
        with app.app_context():
            worker, total = Worker(), 0
            while tried := worker.run_once():
                total += tried
            return total

    return run


@pytest.fixture
def shop(factory) -> ClientInfo:
    """A client people can be invited to."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)
