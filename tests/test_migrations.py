"""Migrations are code: they build the schema from nothing and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import postgres_url_or_skip, private_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """An empty database: a new SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with private_schema(postgres_url_or_skip(), "vestibule_migration") as url:
        yield url


def test_upgrade_from_empty_leaves_nothing_pending(empty_database_url):
    """`db upgrade` on an empty database creates a schema identical to the models."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        assert "accounts" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_downgrade_removes_every_table(empty_database_url):
    """The initial migration's downgrade drops everything it created."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def test_db_check_works_before_the_folder_exists(tmp_path):
    """``flask db check`` (and upgrade) on a fresh checkout: the SQLite file's folder
    does not exist yet; it is created, and after upgrade nothing is pending."""
    database = tmp_path / "not-yet" / "vestibule.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    runner = app.test_cli_runner()
    before = runner.invoke(args=["db", "check"])
    assert "unable to open database file" not in str(before.exception or "")
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    assert database.exists()
    with app.app_context():
        db.engine.dispose()
