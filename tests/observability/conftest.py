"""Fixtures for health, metrics and logs: metric samples read from this process's
registry, and an ``alembic_version`` table written by hand (no Alembic run, which
would reconfigure logging)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from app.extensions import db
from app.observability.health import migration_heads
from tests.api.conftest import machine_headers, person_headers

__all__ = ["machine_headers", "person_headers"]  # fixtures used here too


def sample(name: str, **labels: str) -> float:
    """The current value of one series of this process (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def write_versions(app, *revisions: str) -> None:
    """Make ``alembic_version`` hold exactly ``revisions``."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        for revision in revisions:
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})


def drop_versions(app) -> None:
    """Remove ``alembic_version`` again."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def heads(app) -> list[str]:
    """The migration head(s) of the code."""
    return sorted(migration_heads(str(app.extensions["migrate"].directory)))


@pytest.fixture
def versions(app):
    """``versions(*revisions)`` writes the database's Alembic revisions for one test."""
    yield lambda *revisions: write_versions(app, *revisions)
    drop_versions(app)


@pytest.fixture
def at_head(versions, app) -> None:
    """The test database looks migrated to the code's head."""
    versions(*heads(app))
