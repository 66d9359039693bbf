"""/readyz follows PostgreSQL: 503 soon after it becomes unreachable (or stops
answering), 200 again once it is back. The database is taken away from this app only,
by a forwarder between them; the shared server keeps running."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import postgres_url_or_skip, private_schema
from tests.observability.conftest import drop_versions, heads, write_versions
from tests.observability.forwarder import Forwarder

#: Seconds /readyz gets to reach the expected answer after a change.
SETTLE = 15


@pytest.fixture
def forwarded():
    """(app, forwarder): an app whose PostgreSQL (a private schema at the code's head)
    is reached through a forwarder, relaying at the start."""
    with private_schema(postgres_url_or_skip(), "vestibule_readyz") as url:
        parsed = make_url(url)
        forwarder = Forwarder((parsed.host or "127.0.0.1", parsed.port or 5432))
        forwarder.open()
        through = parsed.set(host="127.0.0.1", port=forwarder.port)
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=through.render_as_string(hide_password=False),
            READYZ_TIMEOUT=1,
        )
        try:
            write_versions(app, *heads(app))
            yield app, forwarder
        finally:
            forwarder.open()
            with app.app_context():
                db.engine.dispose()  # connections the forwarder cut
            drop_versions(app)
            with app.app_context():
                db.engine.dispose()
            forwarder.close()


def settles_on(client, status: int) -> dict:
    """Probe /readyz until it answers ``status`` (a bounded wait); its JSON body."""
    deadline = time.monotonic() + SETTLE
    while True:
        response = client.get("/readyz")
        if response.status_code == status:
            return response.json
        if time.monotonic() > deadline:
            pytest.fail(f"/readyz still answers {response.status_code}: {response.json}")
        time.sleep(0.1)


def test_readyz_follows_postgresql_going_away_and_back(forwarded):
    """Relaying: 200. Connections cut and the port closed: 503 with Retry-After and the
    database check failing. Listening again: 200."""
    app, forwarder = forwarded
    client = app.test_client()
    assert client.get("/readyz").status_code == 200

    forwarder.close()
    body = settles_on(client, 503)
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["reason"].startswith("unreachable")
    response = client.get("/readyz")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0

    forwarder.open()
    assert settles_on(client, 200)["checks"]["database"] == {"ok": True}


def test_readyz_fails_when_postgresql_stops_answering(forwarded):
    """A server that accepts connections and never answers: the check gives up after
    READYZ_TIMEOUT and says 503 (timeout); once it answers again, 200."""
    app, forwarder = forwarded
    client = app.test_client()
    with app.app_context():
        db.engine.dispose()  # no pooled connection: the next one meets the silent server
    forwarder.hold()
    body = settles_on(client, 503)
    assert body["checks"]["database"]["reason"].startswith("timeout")

    forwarder.open()
    settles_on(client, 200)
