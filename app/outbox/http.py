"""One HTTP POST for the outbox's senders (webhooks, the SMS provider), bounded in time.

A socket timeout only limits each read: a receiver that answers a byte at a time
could hold a worker for ever. Here a timer cuts the connection when the whole
exchange has taken ``timeout`` seconds. Redirects are never followed, proxy
variables in the environment are ignored (http.client does not read them), and only
the start of the answer is read, for the attempt log.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Bytes of an answer read for its excerpt (UTF-8 takes up to 4 per character).
READ_LIMIT = 2000


class NoAnswer(OSError):
    """No (complete) status line and headers came back in time."""


@dataclass
class Answer:
    """The status of an answer and the start of its body, as text."""

    status: int
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to an http(s) ``url``; NoAnswer (an OSError) if none came in time.

    ValueError for a URL that is not http(s) with a host (urllib would also open
    ``file:``; we never do).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL with a host")
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cut = threading.Event()
    timer = threading.Timer(timeout, _cut, args=(conn, cut))
    timer.start()
    try:
        try:
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            if cut.is_set():
                raise NoAnswer(f"no answer within {timeout:g} s") from None
            raise NoAnswer(f"{type(exc).__name__}: {exc}") from None
        return Answer(response.status, _excerpt(response))
    finally:
        timer.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    cut.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to cut
            sock.shutdown(socket.SHUT_RDWR)


def _excerpt(response: http.client.HTTPResponse) -> str | None:
    try:
        raw = response.read(READ_LIMIT)
    except http.client.IncompleteRead as exc:
        raw = exc.partial
    except (OSError, http.client.HTTPException):
        raw = b""
    return raw.decode("utf-8", errors="replace") or None
