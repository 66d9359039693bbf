"""/healthz and /readyz: liveness touches nothing; readiness checks the database, its
migrations and (when configured) Redis."""

from __future__ import annotations

import socket

import pytest
import redis
from sqlalchemy import event

from app import create_app
from app.extensions import db, limiter
from tests.e2e.conftest import free_port
from tests.observability.conftest import drop_versions, heads, write_versions

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def statements(app):
    """The SQL statements the app's engine runs during the test."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_healthz_touches_nothing(client, statements):
    """/healthz answers 200 and a tiny JSON body, runs no SQL and sets no cookie."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert statements == []
    assert "Set-Cookie" not in response.headers


def test_health_endpoints_are_not_rate_limited(tmp_path):
    """An application-wide limit that stops other pages leaves /healthz and /readyz alone."""
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'limits.db'}",
        RATELIMIT_ENABLED=True,
        RATELIMIT_APPLICATION="1 per hour",
    )
    client = app.test_client()
    assert client.get("/.well-known/openid-configuration").status_code == 200
    assert client.get("/.well-known/openid-configuration").status_code == 429
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    assert [client.get("/readyz").status_code for _ in range(3)] == [503, 503, 503]
    with app.app_context():
        db.engine.dispose()
    # The limiter is one object per process and keeps the limits of the first app that
    # set them: take this one back, or every later test app would inherit it.
    limiter.limit_manager.set_application_limits([])


def test_readyz_ready_at_head(client, at_head, app):
    """Database answering and at the migrations' head: 200 and a breakdown."""
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    checks = response.json["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["migrations"]["ok"] is True
    assert checks["migrations"]["database"] == checks["migrations"]["code"] == heads(app)
    assert "redis" not in checks  # rate limits in memory: nothing to check
    assert "Set-Cookie" not in response.headers


def test_readyz_unavailable_when_not_migrated(client):
    """No alembic_version table: 503 with Retry-After, the database itself fine."""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["migrations"]["reason"] == "not migrated"


def test_readyz_unavailable_when_behind(client, versions):
    """A database at an older revision than the code's scripts is not ready."""
    versions("0001")
    response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.json["checks"]["migrations"]
    assert migrations["ok"] is False and migrations["database"] == ["0001"]


@pytest.fixture
def app_with_redis(tmp_path):
    """``make(url, **settings)``: an app (its own SQLite file, at head) whose rate limits
    live in Redis at ``url``."""
    made = []

    def make(url: str, **settings):
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / f'redis-{len(made)}.db'}",
            RATELIMIT_STORAGE_URI=url,
            READYZ_TIMEOUT=1,
            **settings,
        )
        write_versions(app, *heads(app))
        made.append(app)
        return app

    yield make
    for app in made:
        drop_versions(app)
        with app.app_context():
            db.engine.dispose()


def _redis_or_skip() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    finally:
        client.close()


def test_readyz_pings_redis(app_with_redis):
    """With Redis configured and answering, the breakdown says so."""
    _redis_or_skip()
    response = app_with_redis(REDIS_URL).test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == {"ok": True, "required": False}


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 where nothing answers (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
        yield sock.getsockname()[1]


def test_readyz_reports_redis_down_without_failing_by_default(app_with_redis, silent_port):
    """Redis down degrades the rate limits only: reported, still 200 unless required."""
    response = app_with_redis(f"redis://127.0.0.1:{silent_port}/0").test_client().get("/readyz")
    assert response.status_code == 200
    redis_check = response.json["checks"]["redis"]
    assert redis_check["ok"] is False and redis_check["required"] is False
    assert redis_check["reason"].startswith("unreachable")


def test_readyz_fails_on_redis_when_required(app_with_redis, silent_port):
    """READYZ_REQUIRE_REDIS: Redis down makes the instance unavailable."""
    app = app_with_redis(f"redis://127.0.0.1:{silent_port}/0", READYZ_REQUIRE_REDIS=True)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json["checks"]["redis"]["ok"] is False
