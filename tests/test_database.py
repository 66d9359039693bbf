"""Engine settings: no ping per request, dead pooled connections replaced on PostgreSQL,
bound parameters (emails, token hashes) never in error texts."""

from __future__ import annotations

import gc
import time
import warnings

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from tests.conftest import postgres_url_or_skip, private_schema
from tests.faults import TcpForwarder, end_postgres_connections
from tests.helpers import Factory, bearer, post_as, sign_in


def test_sqlite_needs_no_ping_and_hides_parameters(tmp_path):
    """SQLite: no pre-ping, no recycling; parameters hidden from error texts."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'e.db'}")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"hide_parameters": True}
    with app.app_context():
        with pytest.raises(OperationalError) as caught:
            db.session.execute(text("select * from nowhere where x = :secret"), {"secret": "a@b"})
        assert "a@b" not in str(caught.value)
        db.engine.dispose()


def test_sqlite_file_is_in_write_ahead_log_mode_and_still_fully_synced(tmp_path):
    """An SQLite file is switched to WAL by the app's first connection, and stays so
    for any later program opening it; commits are still synced (synchronous FULL)."""
    path = tmp_path / "w.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA synchronous")) == 2  # FULL
        db.session.remove()
        db.engine.dispose()
    other = create_engine(f"sqlite:///{path}")
    with other.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
    other.dispose()


@pytest.fixture
def postgres_url():
    with private_schema(postgres_url_or_skip(), "vestibule_engine") as url:
        yield url
    # A connection the server killed is dropped by SQLAlchemy without psycopg
    # closing it; collect it here, quietly, rather than at the end of the session.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _kill(pid: int) -> None:
    """Let the server end connection ``pid``."""
    assert end_postgres_connections(postgres_url_or_skip(), "pid", pid) == 1


def _kill_pooled_connection(app) -> None:
    """Let the server end the connection that sits in the app's pool."""
    with app.app_context():
        pid = db.session.scalar(text("select pg_backend_pid()"))
        db.session.remove()  # back to the pool, idle
    _kill(pid)


@pytest.fixture
def pings(monkeypatch):
    """Counts the pings the engines' dialects send before a checkout."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    sent: list[int] = []
    original = PGDialect_psycopg.do_ping

    def counting(self, dbapi_connection):
        sent.append(1)
        return original(self, dbapi_connection)

    monkeypatch.setattr(PGDialect_psycopg, "do_ping", counting)
    return sent


def test_idle_connection_killed_by_the_server_is_replaced(postgres_url):
    """A pooled connection the server dropped while it was idle is noticed at checkout
    and replaced: the request works."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=0.2)
    _kill_pooled_connection(app)
    time.sleep(0.3)
    with app.app_context():
        assert db.session.scalar(text("select 1")) == 1
        db.engine.dispose()


def test_connection_the_server_closed_is_replaced_without_waiting_for_the_idle_ping(
    postgres_url, pings
):
    """A server that ends a connection (a restart, an administrator) says so on its
    socket: the next checkout sees it without a round trip, pings, and replaces the
    connection, however short its idle time. The request works."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=3600)
    _kill_pooled_connection(app)
    with app.app_context():
        assert db.session.scalar(text("select 1")) == 1
        db.engine.dispose()
    assert len(pings) == 1


def test_a_healthy_busy_pool_sends_no_ping(postgres_url, pings):
    """Checkouts of live connections used moments ago cost no round trip."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=3600)
    for _ in range(5):
        with app.app_context():
            assert db.session.scalar(text("select 1")) == 1
    with app.app_context():
        db.engine.dispose()
    assert pings == []


def test_connection_killed_while_in_use_fails_that_request_once(postgres_url):
    """What no check before use can save: the connection dies after its checkout. That
    use fails; the pool then starts afresh."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=3600)
    with app.app_context():
        pid = db.session.scalar(text("select pg_backend_pid()"))
        _kill(pid)
        with pytest.raises(OperationalError):
            db.session.scalar(text("select 1"))
        db.session.remove()
        assert db.session.scalar(text("select 1")) == 1
        db.engine.dispose()


def test_postgresql_recycles_instead_of_pinging(postgres_url):
    """PostgreSQL gets pool recycling and no pre-ping on every checkout."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url)
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_recycle"] == 1800 and "pool_pre_ping" not in options


# -- the database goes away ----------------------------------------------------------------


@pytest.fixture
def cut_off(postgres_url):
    """An app that reaches PostgreSQL through a link the test can cut; seeded with a
    machine client and a person; yields (app, link, machine, person)."""
    from sqlalchemy.engine import make_url

    real = make_url(postgres_url)
    link = TcpForwarder(real.host or "127.0.0.1", real.port or 5432).start()
    url = real.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
    factory = Factory(app)
    machine = factory.client(grant_types=["client_credentials"], scope="invitations:read")
    person = factory.account()
    yield app, link, machine, person
    with app.app_context():
        db.engine.dispose()
    link.close()


def test_database_down_is_a_503_with_retry_after_and_one_calm_log_line(cut_off, caplog):
    """While PostgreSQL cannot be reached: protocol and API answers are 503 JSON
    temporarily_unavailable, pages a calm 503 page, all with Retry-After; one log line
    per request, no traceback, no parameters; once it is back, everything works."""
    app, link, machine, person = cut_off
    browser = app.test_client()
    assert sign_in(browser, person).status_code == 303

    def token():
        return post_as(app.test_client(), machine, "/token", {"grant_type": "client_credentials"})

    assert token().status_code == 200

    link.cut()
    with caplog.at_level("INFO"):
        answers = {
            "token": token(),
            "api": app.test_client().get("/api/v1/invitations", headers=bearer("x" * 43)),
            "account": browser.get("/account"),
            "sign_in": sign_in(app.test_client(), person),
        }
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.status_code)
        assert answer.headers["Retry-After"] == "5"
    assert answers["token"].json["error"] == "temporarily_unavailable"
    assert answers["api"].json["error"] == "temporarily_unavailable"
    assert "briefly unavailable" in answers["account"].get_data(as_text=True)
    lines = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(lines) == len(answers)
    assert all(r.exc_info is None and "database unavailable" in r.getMessage() for r in lines)
    assert person.email not in caplog.text and "[parameters" not in caplog.text

    link.restore()
    assert token().status_code == 200
    assert browser.get("/account").status_code == 200
