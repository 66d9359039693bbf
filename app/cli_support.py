"""What the domain command groups share: refusals as click errors, fields and tables.

Kept apart from app/cli.py, which imports every group: a group importing it back
would be an import circle.
"""

from __future__ import annotations

from datetime import datetime

import click

from app.errors import DomainError
from app.extensions import db

#: Details of a refusal worth printing after its description, as the API returns them.
SHOWN_DETAILS = ("invitation_id", "sub")


def refusal_text(exc: DomainError) -> str:
    """The refusal's description, with the details that tell what to do next (the id of
    the pending invitation a duplicate conflicts with, the account holding an address)."""
    details = [f"{key}: {exc.extra[key]}" for key in SHOWN_DETAILS if exc.extra.get(key)]
    return exc.description + (f" ({', '.join(details)})" if details else "")


def refusal_as_click_error(action, *args):
    """Run a domain ``action``; a refusal becomes a click error and nothing is written."""
    try:
        return action(*args)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(refusal_text(exc)) from None


def when(value: datetime | None) -> str:
    """A time to the second, or ``-`` for none."""
    return value.isoformat(timespec="seconds") if value else "-"


def echo_fields(pairs: list[tuple[str, object]]) -> None:
    """One ``name: value`` line per pair, the values aligned; ``-`` for an empty one."""
    width = max(len(name) for name, _ in pairs) + 2
    for name, value in pairs:
        shown = when(value) if isinstance(value, datetime) else value
        click.echo(f"{name + ':':<{width}}{'-' if shown in (None, '') else shown}")


def echo_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """The header and rows in columns as wide as their widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        click.echo(
            "  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        )
