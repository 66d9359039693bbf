"""``vestibule db check`` (``flask db check`` too): whether a model change lacks a
migration, answered whatever state the configured database is in.

Flask-Migrate's own check compares the models with the configured database and
refuses ("Target database is not up to date") when that database is not at the latest
migration, as a fresh checkout's empty ``instance/vestibule.db`` is not. This one
compares on the configured database when it is up to date, and otherwise says so and
compares on a scratch SQLite database migrated from nothing, which answers the same
question. It replaces the ``check`` command of Flask-Migrate's ``db`` group.
"""

from __future__ import annotations

import tempfile

import click
import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group

from app.extensions import db


@click.command("check")
@with_appcontext
def check() -> None:
    """Fail when a model change has no migration (on a scratch database when this one
    is not at the latest migration)."""
    current, latest = _revisions()
    if current == latest:
        flask_migrate.check()  # exits 1 with Alembic's message on a difference
        return
    at = ", ".join(sorted(current)) or "no migration"
    click.echo(
        f"This database is at {at}, the latest migration is {', '.join(sorted(latest))}: "
        "`vestibule db upgrade` migrates it. Comparing the models with the migrations "
        "on a scratch SQLite database instead."
    )
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="vestibule-check-") as folder:
        scratch = create_app(
            current_app.config["ENV_NAME"], SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/check.db"
        )
        with scratch.app_context():
            try:
                flask_migrate.upgrade()
                flask_migrate.check()
            finally:
                db.engine.dispose()


def _revisions() -> tuple[set[str], set[str]]:
    """The configured database's revisions, and the migrations' latest."""
    config = current_app.extensions["migrate"].migrate.get_config()
    latest = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, latest


def register_check() -> None:
    """Put this check in place of Flask-Migrate's in its ``db`` group."""
    db_group.add_command(check)
