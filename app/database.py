"""Engine settings per database, and noticing a dead connection without pinging on
every request.

SQLAlchemy's ``pool_pre_ping`` costs a round trip on each checkout. SQLite needs none
(a file, nothing to lose). A PostgreSQL connection is pinged before use only when there
is a reason to doubt it, and a busy server pays nothing:

- the server has spoken to it while it sat unused in the pool. A server that ends a
  connection (a restart, ``pg_terminate_backend``, an idle timeout) first sends its
  reason and closes the socket, so the socket turns readable: one ``poll`` of it, no
  round trip, tells. This is what spares the first request after a database restart;
- it sat idle for ``DATABASE_IDLE_PING`` seconds: a connection lost without a word
  (a firewall dropping an idle flow, a host gone) is noticed then;
- and every connection is replaced after ``DATABASE_POOL_RECYCLE`` seconds.

A ping that fails replaces the connection before the request uses it. A connection
that dies mid-request fails that request (503, app/errors.py); SQLAlchemy then
invalidates the whole pool, so the next requests start afresh.

An SQLite file is put in write-ahead-log mode on first connect (``journal_mode=WAL``,
kept in the file): a commit appends to ``<file>-wal`` instead of writing and deleting
a rollback journal, which made a token request's commit cost more CPU than the rest of
it, and readers no longer wait for the one writer. ``synchronous`` stays at SQLite's
FULL, so a committed revocation survives a power cut. A backup must copy the three
files together, or use ``sqlite3 vestibule.db ".backup copy.db"``.

Bound parameters never reach exception texts or logs (``hide_parameters``): they hold
email addresses and token hashes.
"""

from __future__ import annotations

import select
import time

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

_CHECKED_IN = "vestibule_checked_in"


def engine_options(app: Flask) -> dict:
    """The engine options for the configured database; explicit
    SQLALCHEMY_ENGINE_OPTIONS win."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    options: dict = {"hide_parameters": True}
    if url.get_backend_name() != "sqlite":
        options["pool_recycle"] = app.config["DATABASE_POOL_RECYCLE"]
    return {**options, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}


def use_write_ahead_log(engine: Engine) -> None:
    """Every new connection to an SQLite file switches it to WAL (a no-op once it is)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()


def ping_when_in_doubt(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when the server has spoken to it since
    it was last used, or when it sat idle ``idle_seconds``."""
    if engine.dialect.name == "sqlite" or engine.pool.__class__.__name__ == "NullPool":
        return

    @event.listens_for(engine, "checkin")
    def _remember(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, proxy) -> None:
        idle = time.monotonic() - record.info.get(_CHECKED_IN, time.monotonic())
        if idle < idle_seconds and not server_spoke(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a new one).
            raise DisconnectionError("pooled connection is gone") from exc


def server_spoke(dbapi_connection) -> bool:
    """Whether the socket of a connection nobody is using has something to read: the
    server's goodbye, almost always (or a notice; the ping that follows keeps the
    connection then). True when the socket cannot be asked."""
    try:
        fd = dbapi_connection.pgconn.socket  # psycopg 3
    except Exception:  # the connection is lost (psycopg says so), or has no socket
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
