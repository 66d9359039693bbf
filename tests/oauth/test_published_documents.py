"""Discovery and JWKS answered from memory in front of Flask (app/oauth/published.py):
the same answer as the view's, given without running the view again, and dropped as
soon as it may be wrong."""

from __future__ import annotations

import logging
import time

import pytest
from prometheus_client import REGISTRY

from app import create_app
from app.extensions import db
from app.oauth import keys, metadata, views

DISCOVERY = "/.well-known/openid-configuration"
PATHS = ["/jwks.json", DISCOVERY, "/.well-known/oauth-authorization-server"]


@pytest.fixture(autouse=True)
def nothing_kept(app):
    """Each test starts with nothing answered from memory (the app outlives tests)."""
    app.wsgi_app.kept.clear()


@pytest.fixture
def view_runs(monkeypatch) -> list[str]:
    """The names of the document views' builders, appended each time a view runs."""
    runs: list[str] = []
    jwks_document, server_metadata = keys.jwks_document, metadata.server_metadata

    def counted_jwks():
        runs.append("jwks")
        return jwks_document()

    def counted_metadata():
        runs.append("metadata")
        return server_metadata()

    monkeypatch.setattr(views.keys, "jwks_document", counted_jwks)
    monkeypatch.setattr(views, "server_metadata", counted_metadata)
    return runs


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "X-Request-Id"}


@pytest.mark.parametrize("path", PATHS)
def test_later_answers_are_the_views_answer_without_the_view(client, view_runs, path):
    """The first GET runs the view; later GETs, HEADs and conditional GETs get the same
    body and headers (a request id of their own) without it."""
    first = client.get(path)
    assert first.status_code == 200 and len(view_runs) == 1
    again = client.get(path)
    assert (again.status_code, again.data) == (200, first.data)
    assert _headers(again) == _headers(first)
    assert again.headers["Content-Security-Policy"] and again.headers["ETag"]
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(first.data))
    unchanged = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == first.headers["ETag"]
    assert "Content-Type" not in unchanged.headers
    assert len(view_runs) == 1


def test_answers_from_memory_keep_request_ids_and_are_counted(client, view_runs):
    """A sane X-Request-Id is echoed, another replaced; each answer is in the metrics."""
    client.get("/jwks.json")
    before = _answered_jwks()
    echoed = client.get("/jwks.json", headers={"X-Request-Id": "rp-7"})
    assert echoed.headers["X-Request-Id"] == "rp-7"
    replaced = client.get("/jwks.json", headers={"X-Request-Id": "not an id"})
    assert len(replaced.headers["X-Request-Id"]) == 32
    assert _answered_jwks() == before + 2
    assert view_runs == ["jwks"]


def _answered_jwks() -> float:
    labels = {"endpoint": "oauth.jwks", "method": "GET", "status": "200"}
    return REGISTRY.get_sample_value("vestibule_http_requests_total", labels) or 0.0


def test_a_key_published_here_is_in_the_next_answer(client, app, view_runs):
    """Publishing a key in this process drops the kept JWKS at once."""
    assert len(client.get("/jwks.json").json["keys"]) == 1
    with app.app_context():
        keys.publish_next_key()
    assert len(client.get("/jwks.json").json["keys"]) == 2
    assert view_runs == ["jwks", "jwks"]


def test_a_key_published_by_another_process_is_in_the_answer_after_the_recheck(
    client, app, database_url, monkeypatch
):
    """Another app on the same database (another process) publishes a key: this one
    keeps its answer until SIGNING_KEYS_RECHECK has passed, then reads the keys again."""
    assert len(client.get("/jwks.json").json["keys"]) == 1
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    try:
        with other.app_context():
            keys.publish_next_key()
        assert len(client.get("/jwks.json").json["keys"]) == 1
        later = time.monotonic() + app.config["SIGNING_KEYS_RECHECK"] + 1
        monkeypatch.setattr(time, "monotonic", lambda: later)
        assert len(client.get("/jwks.json").json["keys"]) == 2
    finally:
        with other.app_context():
            db.engine.dispose()


def test_discovery_follows_the_settings_it_is_made_from(client, app, monkeypatch):
    """A changed setting (tests do this; deployments restart) is in the next answer."""
    assert client.get(DISCOVERY).json["issuer"] == app.config["ISSUER"]
    monkeypatch.setitem(app.config, "ISSUER", "https://id.elsewhere.example")
    assert client.get(DISCOVERY).json["issuer"] == "https://id.elsewhere.example"


def test_other_requests_for_these_paths_go_through_flask(client, view_runs):
    """Other methods and query strings get Flask's answers (405, the NUL guard's 400)."""
    client.get("/jwks.json")
    assert client.post("/jwks.json").status_code == 405
    assert client.get("/jwks.json?x=%00").status_code == 400
    assert client.get("/jwks.json?v=2").status_code == 200
    assert view_runs == ["jwks", "jwks"]


def test_with_every_request_logged_each_goes_through_flask(client, app, caplog, monkeypatch):
    """LOG_REQUESTS: every answer has its log line, so none is given from memory."""
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    caplog.set_level(logging.INFO, logger="app")
    for _ in range(3):
        assert client.get("/jwks.json").status_code == 200
    lines = [r for r in caplog.records if r.name == "app.requests"]
    assert [line.endpoint for line in lines] == ["oauth.jwks"] * 3


def test_an_answer_that_depends_on_the_request_is_not_kept(tmp_path, view_runs):
    """An answer naming a Vary header (a later hook for cross-origin reads, say) or
    setting a cookie is the asking request's own: each request runs the view."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'v.db'}")
    with app.app_context():
        db.create_all()

    @app.after_request
    def vary(response):
        response.headers["Vary"] = "Origin"
        return response

    client = app.test_client()
    for _ in range(3):
        assert client.get(DISCOVERY).headers["Vary"] == "Origin"
    assert view_runs == ["metadata"] * 3
    with app.app_context():
        db.engine.dispose()
