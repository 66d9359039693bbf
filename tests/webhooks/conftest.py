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
#: Seconds a held request waits at most to be released (then it is answered anyway).
HOLD_LIMIT = 30


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
    path: str = "/hooks"

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server answering POSTs with the statuses in ``answers`` (then
    ``default``), keeping what it received.

    After ``hold()`` it is a slow receiver: requests (to paths containing ``only``)
    wait unanswered, holding their connection, until ``release_one()`` or
    ``release_all()`` (HOLD_LIMIT seconds at most); ``held`` counts those waiting now,
    ``peak`` the most at once, ``released`` the paths of those answered since."""

    server: ThreadingHTTPServer
    answers: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    held: int = 0
    peak: int = 0
    released: list[str] = field(default_factory=list)
    hold_only: str | None = None
    gate: threading.Semaphore | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return self.url_for("/hooks")

    def url_for(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def hold(self, only: str = "/") -> None:
        """From now on, keep requests to paths containing ``only`` waiting."""
        self.hold_only, self.gate = only, threading.Semaphore(0)

    def release_one(self) -> None:
        """Let one held request be answered."""
        self.gate.release()

    def release_all(self) -> None:
        """Answer every held request, and hold none from now on."""
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.release(1000)

    def wait_until(self, condition, timeout: float = HOLD_LIMIT) -> bool:
        """Whether ``condition()`` came true within ``timeout`` seconds."""
        with self.changed:
            return self.changed.wait_for(condition, timeout)

    def arrive(self, request: Received) -> bool:
        """Note a request; whether it is to be held."""
        with self.changed:
            self.received.append(request)
            gate = self.gate
            holding = gate is not None and self.hold_only in request.path
            if holding:
                self.held += 1
                self.peak = max(self.peak, self.held)
            self.changed.notify_all()
        return holding

    def wait_for_release(self, path: str) -> None:
        """Block until released (or HOLD_LIMIT), then stop counting as held: before the
        answer goes out, so the sender cannot start another delivery before it."""
        gate = self.gate
        if gate is not None:
            gate.acquire(timeout=HOLD_LIMIT)
        with self.changed:
            self.held -= 1
            self.released.append(path)
            self.changed.notify_all()

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
            if receiver.arrive(Received(headers, body, self.path)):
                receiver.wait_for_release(self.path)
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
    ref[0].release_all()
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
