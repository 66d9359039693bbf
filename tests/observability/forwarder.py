"""A TCP forwarder on 127.0.0.1 standing between an app and its database, so a test can
take the database away from that app only (the shared server keeps running)."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from tests.e2e.conftest import free_port

#: Seconds any thread of the forwarder is waited for when it stops.
JOIN_TIMEOUT = 5


class Forwarder:
    """Relays ``127.0.0.1:port`` to ``target``. ``close()`` stops listening and cuts
    every relayed connection; ``open()`` listens again on the same port; ``hold()``
    accepts connections and relays nothing (a server that stopped answering)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.mode = "closed"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def open(self, mode: str = "relay") -> None:
        """Listen (again), relaying (``relay``) or holding (``hold``) new connections."""
        self.close()
        self.mode = mode
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        self._start(self._accept, listener)

    def hold(self) -> None:
        """Accept connections but never answer them."""
        self.open("hold")

    def close(self) -> None:
        """Stop listening and cut every connection; wait for the relay threads."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
            threads, self._threads = self._threads, []
        for sock in [s for s in (listener,) if s is not None] + list(sockets):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        self.mode = "closed"

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._listener is None:
                return False
            self._sockets.add(sock)
            return True

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            if not self._keep(downstream):
                downstream.close()
                return
            if self.mode == "hold":
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=JOIN_TIMEOUT)
            except OSError:
                downstream.close()
                continue
            upstream.settimeout(None)
            if not self._keep(upstream):
                upstream.close()
                return
            self._start(self._pump, downstream, upstream)
            self._start(self._pump, upstream, downstream)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
