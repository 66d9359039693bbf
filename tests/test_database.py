"""Engine settings: no ping per request, dead idle connections replaced on PostgreSQL,
bound parameters (emails, token hashes) never in error texts."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from tests.conftest import postgres_url_or_skip, private_schema


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


@pytest.fixture
def postgres_url():
    with private_schema(postgres_url_or_skip(), "vestibule_engine") as url:
        yield url


def _kill_pooled_connection(app) -> None:
    """Let the server end the connection that sits in the app's pool."""
    with app.app_context():
        pid = db.session.scalar(text("select pg_backend_pid()"))
        db.session.remove()  # back to the pool, idle
    killer = create_engine(postgres_url_or_skip())
    with killer.begin() as conn:
        assert conn.scalar(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_idle_connection_killed_by_the_server_is_replaced(postgres_url):
    """A pooled connection the server dropped while it was idle is noticed at checkout
    and replaced: the request works."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=0.2)
    _kill_pooled_connection(app)
    time.sleep(0.3)
    with app.app_context():
        assert db.session.scalar(text("select 1")) == 1
        db.engine.dispose()


def test_without_the_idle_ping_the_dead_connection_fails_once(postgres_url):
    """The same without pinging (idle time below the threshold): one failure, after
    which the pool starts afresh. (Shows what the ping saves a request from.)"""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_IDLE_PING=3600)
    _kill_pooled_connection(app)
    with app.app_context():
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
