"""Injecting faults between the app and a real dependency, without stopping the shared
service other tests use: a TCP forwarder whose link can be cut and restored, and
PostgreSQL ending chosen connections as a restart would end them all."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from sqlalchemy import create_engine, text


def end_postgres_connections(base_url: str, column: str, value: int | str) -> int:
    """Let PostgreSQL end every connection whose ``pg_stat_activity.column`` (``pid``
    or ``application_name``) is ``value``, as a restart does, waiting until each is gone
    (so its goodbye has been sent); how many there were."""
    if column not in ("pid", "application_name"):
        raise ValueError(column)
    killer = create_engine(base_url)
    try:
        with killer.begin() as conn:
            ended = conn.scalars(
                text(
                    "select pg_terminate_backend(pid, 5000) from pg_stat_activity "
                    f"where {column} = :value"
                ),
                {"value": value},
            ).all()
    finally:
        killer.dispose()
    assert all(ended), "a connection outlived pg_terminate_backend's wait"
    return len(ended)


class TcpForwarder:
    """Forwards 127.0.0.1:``port`` to ``target``; ``cut()`` drops every connection and
    refuses new ones (as a stopped server would), ``restore()`` listens again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpForwarder:
        """Listen (on the same port as before, after a cut)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        """Close the listener and every forwarded connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
