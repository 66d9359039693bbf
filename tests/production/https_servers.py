"""HTTPS servers in the test process, on 127.0.0.1 only, using the test certificate:

- a small TLS-terminating reverse proxy, as nginx or a load balancer stands in front
  of gunicorn (one instance, or several in turn): https outside, plain http to the app
  inside, with ``X-Forwarded-Proto``,
  ``X-Forwarded-For`` and ``X-Forwarded-Host`` added (any a client sent are dropped,
  so nobody can pretend to be the proxy);
- a relying party's landing page, where a third-party client's redirect_uri and
  post-logout URI lead the browser (any GET answers 200).
"""

from __future__ import annotations

import http.client
import itertools
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.production.certificates import TlsFiles

#: RFC 9110 §7.6.1: connection-specific fields a proxy must not forward, plus the
#: length, which the proxy sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
#: Seconds the proxy waits for the app's answer.
UPSTREAM_TIMEOUT = 30
#: The proxy reaches the app from another loopback address than its clients use, as a
#: proxy on a host of its own would: the app learns the client's address only from
#: ``X-Forwarded-For`` (nothing listens on it; Linux routes all of 127/8 to lo).
PROXY_SOURCE_ADDRESS = "127.0.0.2"
#: Seconds a TLS handshake, or a kept-alive connection's next request, may take.
IDLE_TIMEOUT = 5


class _TlsServer(ThreadingHTTPServer):
    """Accepts TCP; each connection's TLS handshake happens in its own thread, and
    closing the server waits for those threads (so no socket outlives it)."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, port: int, handler, tls: ssl.SSLContext, upstreams=()):
        super().__init__(("127.0.0.1", port), handler)
        self.tls = tls
        self._upstreams = itertools.cycle(upstreams)
        self._lock = threading.Lock()

    def next_upstream(self) -> tuple[str, int]:
        """The app instance for the next request: each in turn, as a load balancer
        with round robin (consecutive requests of one browser land on different ones)."""
        with self._lock:
            return next(self._upstreams)

    def handle_error(self, request, client_address):
        # Browsers drop connections and abandon handshakes all the time; stay quiet.
        pass


class _TlsHandler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 over the TLS-wrapped connection; logs nothing."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: _TlsServer

    def setup(self):
        self.request.settimeout(IDLE_TIMEOUT)
        self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            self.request.close()

    def log_message(self, format, *args):
        pass

    def answer(self, status: int, headers: list[tuple[str, str]], body: bytes, reason=None):
        """Send one complete response (its length set here)."""
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _ReverseProxy(_TlsHandler):
    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        host, port = self.server.next_upstream()
        try:
            status, reason, headers, content = self._ask_upstream(host, port, body)
        except (OSError, http.client.HTTPException):
            self.answer(502, [("Content-Type", "text/plain")], b"The app did not answer.")
            return
        # Which instance answered, for tests that follow a flow across instances.
        self.answer(status, [*headers, ("X-Test-Upstream", str(port))], content, reason)

    def _ask_upstream(self, host: str, port: int, body: bytes | None):
        """The app's (status, reason, headers, body) for this request."""
        forwarded = [
            ("Host", f"{host}:{port}"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-For", self.client_address[0]),
            ("X-Forwarded-Host", self.headers.get("Host", "")),
        ]
        upstream = http.client.HTTPConnection(
            host, port, timeout=UPSTREAM_TIMEOUT, source_address=(PROXY_SOURCE_ADDRESS, 0)
        )
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                lowered = name.lower()
                if lowered in HOP_BY_HOP or lowered == "host" or lowered.startswith("x-forwarded-"):
                    continue
                upstream.putheader(name, value)
            for name, value in forwarded:
                upstream.putheader(name, value)
            if body is not None:
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body)
            response = upstream.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward


class _LandingPage(_TlsHandler):
    def do_GET(self):
        page = b"<!doctype html><title>Relying party</title><h1>The relying party</h1>"
        self.answer(200, [("Content-Type", "text/html; charset=utf-8")], page)


@contextmanager
def _serving(server: _TlsServer) -> Iterator[None]:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="https-test-server"
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _tls(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    return context


@contextmanager
def tls_terminating_proxy(port: int, upstream_ports, files: TlsFiles) -> Iterator[None]:
    """Serve https on 127.0.0.1:``port`` in front of http://127.0.0.1 on
    ``upstream_ports`` (one port, or several taken in turn) until the block ends; the
    listening socket and its threads are always closed."""
    ports = [upstream_ports] if isinstance(upstream_ports, int) else list(upstream_ports)
    upstreams = [("127.0.0.1", upstream) for upstream in ports]
    with _serving(_TlsServer(port, _ReverseProxy, _tls(files), upstreams)):
        yield


@contextmanager
def relying_party_landing(port: int, files: TlsFiles) -> Iterator[None]:
    """Answer every GET on https://127.0.0.1:``port`` with a small page, until the
    block ends."""
    with _serving(_TlsServer(port, _LandingPage, _tls(files))):
        yield
