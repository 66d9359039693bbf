"""The outbox's HTTP POST (webhooks, SMS): bounded in total time, redirects not
followed, only the start of an answer read. Real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.outbox.http import NoAnswer, post


@contextmanager
def raw_server(answer: bytes, gap: float = 0.0) -> Iterator[str]:
    """A one-connection server that reads the request and sends ``answer``, one byte
    every ``gap`` seconds when ``gap`` is set."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            conn.recv(65536)
            try:
                if not gap:
                    conn.sendall(answer)
                    return
                for byte in answer:
                    if stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(gap)
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=10)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nthanks"


def test_an_answer_is_read():
    with raw_server(OK) as url:
        answer = post(url, b"{}", {"Content-Type": "application/json"}, timeout=5)
    assert answer.ok and answer.status == 200 and answer.excerpt == "thanks"


def test_a_receiver_dripping_its_answer_is_cut_off():
    """Each byte comes well within the socket timeout, but the whole answer would take
    several seconds: the deadline ends it."""
    with raw_server(OK, gap=0.2) as url, pytest.raises(NoAnswer, match="within 1 s"):
        post(url, b"{}", {}, timeout=1)


def test_a_redirect_is_an_answer_not_followed():
    redirect = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/\r\n"
    redirect += b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    with raw_server(redirect) as url:
        answer = post(url, b"{}", {}, timeout=5)
    assert answer.status == 307 and not answer.ok


def test_only_the_start_of_a_long_answer_is_read():
    body = b"x" * 100_000
    head = f"HTTP/1.1 500 Oops\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with raw_server(head.encode() + body) as url:
        answer = post(url, b"{}", {}, timeout=5)
    assert answer.status == 500 and len(answer.excerpt) == 2000


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "http:///nohost"])
def test_only_http_urls_with_a_host(url):
    with pytest.raises(ValueError):
        post(url, b"{}", {}, timeout=1)


def test_nobody_listening_is_no_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NoAnswer):
        post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=2)
