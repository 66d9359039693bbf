"""The ``vestibule`` command group (a Flask CLI group; ``db`` comes from Flask-Migrate,
its ``check`` from app/database_cli.py,
``run``, ``routes`` and ``shell`` from Flask). Each domain keeps its commands beside it."""

from __future__ import annotations

import copy

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.accounts.cli import groups, roles, users
from app.clients.cli import clients
from app.database_cli import register_check
from app.invitations.cli import invitations
from app.oauth.cli import keys_group
from app.outbox.cli import outbox, purge, worker
from app.seed import seed
from app.webhooks.cli import webhooks

#: Vestibule's own commands (``vestibule --help`` lists them first, by name).
COMMANDS = (
    invitations,
    users,
    groups,
    roles,
    clients,
    webhooks,
    outbox,
    worker,
    purge,
    keys_group,
    seed,
)

HELP = """Vestibule administration: invitations, people, clients, deliveries and keys.

Settings come from the environment (VESTIBULE_ENV, DATABASE_URL, ISSUER ...; see
the README's "Configuration"). Run `vestibule COMMAND --help` for a command's options.
"""


class VestibuleGroup(FlaskGroup):
    """Flask's CLI group that lists Vestibule's own commands first and Flask's and its
    extensions' commands (``db``, ``run``, ``shell``, ``routes``, ``limiter`` ...)
    apart, under a heading of their own. Flask's ``--app`` and ``--env-file`` options
    still work but are not listed: Vestibule is the app, its settings the environment."""

    HIDDEN_OPTIONS = ("app", "env_file")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Copies: Flask's option objects are shared with every other Flask CLI group.
        self.params = [
            _hidden(param) if param.name in self.HIDDEN_OPTIONS else param for param in self.params
        ]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ours = {command.name for command in COMMANDS}
        listed = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                listed.append((name, command))
        sections = (
            ("Commands", [(n, c) for n, c in listed if n in ours]),
            (
                "Flask and its extensions (database, development server)",
                [(n, c) for n, c in listed if n not in ours],
            ),
        )
        width = formatter.width or 80
        for title, commands in sections:
            if commands:
                limit = width - 6 - max(len(name) for name, _ in commands)
                rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
                with formatter.section(title):
                    formatter.write_dl(rows)


def _hidden(param: click.Parameter) -> click.Parameter:
    hidden = copy.copy(param)
    hidden.hidden = True
    return hidden


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    for command in COMMANDS:
        app.cli.add_command(command)
    register_check()


def vestibule_group() -> VestibuleGroup:
    """The ``vestibule`` command, building the app from the environment."""
    return VestibuleGroup(create_app=lambda: create_app(), help=HELP)


def main() -> None:
    """Entry point of the ``vestibule`` console script."""
    vestibule_group()()
