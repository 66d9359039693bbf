"""The ``vestibule`` command group (a Flask CLI group; ``db`` comes from Flask-Migrate,
``run``, ``routes`` and ``shell`` from Flask). Each domain keeps its commands beside it."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.accounts.cli import users
from app.clients.cli import clients
from app.invitations.cli import invitations
from app.oauth.cli import keys_group
from app.outbox.cli import outbox, purge, worker
from app.seed import seed
from app.webhooks.cli import webhooks


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    for command in (clients, users, invitations, seed, keys_group, worker, outbox, purge, webhooks):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the ``vestibule`` console script."""
    FlaskGroup(create_app=lambda: create_app(), help="Vestibule administration.")()
