"""Shared fixtures: the app on SQLite and (when configured) PostgreSQL, clean tables,
and small factories that return plain values so no ORM object outlives its context."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from app.oauth import keys
from tests.helpers import Factory

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def postgres_url_or_skip() -> str:
    """TEST_DATABASE_URL if it answers; a skip (or, with REQUIRE_POSTGRES=1, a failure)."""
    url = os.environ.get("TEST_DATABASE_URL")
    reason = None
    if not url:
        reason = "TEST_DATABASE_URL is not set"
    elif problem := postgres_unreachable(url):
        reason = f"PostgreSQL at TEST_DATABASE_URL is not reachable: {problem}"
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return url


def postgres_unreachable(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or None when it answers (the tests and
    the benchmarks both ask)."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}"
    return None


@contextmanager
def private_schema(base_url: str, prefix: str):
    """A PostgreSQL URL whose connections live in a fresh schema, dropped afterwards.

    Test runs sharing one database (a developer's and CI's on one machine) then never
    see, truncate or drop each other's tables.
    """
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """Each test runs once per database backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'vestibule-test.db'}"
        return
    with private_schema(postgres_url_or_skip(), "vestibule_test") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url):
    """One app per backend, with a fresh schema."""
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Overrides pytest-flask's fixture of the same name, which would push one request
    context for the whole test and so make every test-client request share one ``g``
    and one database session, hiding bugs that real requests would show."""
    yield


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        tables = list(reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()
    keys.forget_cached(application)


@pytest.fixture
def factory(app) -> Factory:
    """Creates accounts and clients; returns plain values."""
    return Factory(app)


@pytest.fixture
def client(app):
    """A test client (a browser with a cookie jar)."""
    return app.test_client()
